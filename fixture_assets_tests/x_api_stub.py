"""A local stand-in for the X API v2 endpoints the twitter job uses, on 127.0.0.1.

Endpoints: ``POST /2/tweets`` (create), ``DELETE /2/tweets/<id>`` (delete)
and ``GET /2/tweets/search/recent`` (search). Without programmed responses
the stub behaves like X in every way the job can observe:

- create and delete need OAuth 1.0a user context. When the stub is given the
  four credentials it checks the consumer key and token, and verifies the
  HMAC-SHA1 signature against the URL tweepy signed (``https://api.twitter.com``
  plus the path). A mismatch gets a 401.
- create rejects a text equal to one of the account's live posts with 403
  duplicate content, as X does.
- search needs ``Authorization: Bearer <token>`` and returns ``search_results``.

Tests program other responses per endpoint with ``enqueue``. Queued
responses are used first, in order. Every request is recorded with its headers and
body, so tests can assert where credentials travelled.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace, TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oauthlib.oauth1.rfc5849 import signature as oauth_signature

CREATE = "create_post"
DELETE = "delete_post"
SEARCH = "search_recent"

# The host tweepy signs requests for, whatever host they are sent to.
SIGNED_HOST = "https://api.twitter.com"
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."

_OAUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')
_DELETE_PATH = re.compile(r"^/2/tweets/(\d+)$")


@dataclass(frozen=True)
class StubResponse:
    """One programmed response."""

    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def rate_limited(cls, reset_at: float) -> StubResponse:
        """Build a 429 with X's rate-limit headers. ``reset_at`` is a Unix time."""
        return cls(
            429,
            _problem(429, "Too Many Requests", "Too Many Requests"),
            {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(reset_at)),
            },
        )

    @classmethod
    def server_error(cls, status: int = 503) -> StubResponse:
        return cls(status, _problem(status, "Service Unavailable", "Service Unavailable"))

    @classmethod
    def unauthorized(cls) -> StubResponse:
        return cls(401, _problem(401, "Unauthorized", "Unauthorized"))

    @classmethod
    def duplicate_content(cls) -> StubResponse:
        return cls(403, _problem(403, "Forbidden", DUPLICATE_DETAIL))

    @classmethod
    def forbidden(cls, detail: str) -> StubResponse:
        return cls(403, _problem(403, "Forbidden", detail))


@dataclass(frozen=True)
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def raw_text(self) -> str:
        """The request line, every header and the body, for searching credentials."""
        header_text = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        query_text = "&".join(f"{name}={value}" for name, values in self.query.items() for value in values)
        return f"{self.method} {self.path}?{query_text}\n{header_text}\n\n{self.body.decode('utf-8', 'replace')}"


class XApiStub:
    """The stand-in server. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        bearer_token: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.bearer_token = bearer_token
        self.requests: list[RecordedRequest] = []
        # Live posts by id: {"text": ..., "in_reply_to": ...}.
        self.posts: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        # Posts that search returns: {"id", "text", "author_id", "username"}.
        self.search_results: list[dict[str, Any]] = []
        self._queues: dict[str, deque[StubResponse]] = defaultdict(deque)
        self._ids = itertools.count(1_800_000_000_000_000_001)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the stub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def enqueue(self, endpoint: str, *responses: StubResponse) -> None:
        with self._lock:
            self._queues[endpoint].extend(responses)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.endpoint == endpoint]

    def add_post(self, text: str) -> str:
        """Store a post as if the account had made it earlier, and return its id."""
        with self._lock:
            post_id = str(next(self._ids))
            self.posts[post_id] = {"text": text, "in_reply_to": None}
            return post_id

    def start(self) -> XApiStub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        # A short poll interval makes stop() return quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="x-api-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> XApiStub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Request handling, called from the server's threads.

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> StubResponse:
        parts = urlsplit(raw_path)
        endpoint = _endpoint(method, parts.path)
        recorded = RecordedRequest(endpoint, method, parts.path, parse_qs(parts.query), headers, body)
        with self._lock:
            self.requests.append(recorded)
            if self._queues[endpoint]:
                return self._queues[endpoint].popleft()
        if endpoint == CREATE:
            return self._create(recorded)
        if endpoint == DELETE:
            return self._delete(recorded)
        if endpoint == SEARCH:
            return self._search(recorded)
        return StubResponse(404, _problem(404, "Not Found", f"no stub route for {method} {parts.path}"))

    def _create(self, request: RecordedRequest) -> StubResponse:
        if not self._user_auth_ok(request):
            return StubResponse.unauthorized()
        payload = request.json() or {}
        text = payload.get("text", "")
        in_reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        with self._lock:
            if any(post["text"] == text for post in self.posts.values()):
                return StubResponse.duplicate_content()
            post_id = str(next(self._ids))
            self.posts[post_id] = {"text": text, "in_reply_to": in_reply_to}
        return StubResponse(201, {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}})

    def _delete(self, request: RecordedRequest) -> StubResponse:
        if not self._user_auth_ok(request):
            return StubResponse.unauthorized()
        match = _DELETE_PATH.match(request.path)
        post_id = match.group(1) if match else ""
        with self._lock:
            if post_id not in self.posts:
                return StubResponse(404, _problem(404, "Not Found", f"post {post_id} not found"))
            del self.posts[post_id]
            self.deleted.append(post_id)
        return StubResponse(200, {"data": {"deleted": True}})

    def _search(self, request: RecordedRequest) -> StubResponse:
        if self.bearer_token is not None and request.headers.get("Authorization") != f"Bearer {self.bearer_token}":
            return StubResponse.unauthorized()
        results = list(self.search_results)
        data = [
            {
                "id": post["id"],
                "text": post["text"],
                "author_id": post["author_id"],
                "created_at": "2026-05-02T15:04:05.000Z",
                "edit_history_tweet_ids": [post["id"]],
            }
            for post in results
        ]
        users = [{"id": post["author_id"], "name": post["username"], "username": post["username"]} for post in results]
        body: dict[str, Any] = {"meta": {"result_count": len(data)}}
        if data:
            body["data"] = data
            body["includes"] = {"users": users}
        return StubResponse(200, body)

    def _user_auth_ok(self, request: RecordedRequest) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return False
        params = {name: unquote(value) for name, value in _OAUTH_PARAM.findall(header)}
        if self.api_key is not None and params.get("oauth_consumer_key") != self.api_key:
            return False
        if self.access_token is not None and params.get("oauth_token") != self.access_token:
            return False
        if self.api_secret is None or self.access_token_secret is None:
            return True
        signed = SimpleNamespace(
            uri=SIGNED_HOST + request.path,
            http_method=request.method,
            params=oauth_signature.collect_parameters(
                uri_query="&".join(f"{name}={value}" for name, values in request.query.items() for value in values),
                headers={"Authorization": header},
                exclude_oauth_signature=True,
            ),
            signature=params.get("oauth_signature", ""),
        )
        return oauth_signature.verify_hmac_sha1(signed, self.api_secret, self.access_token_secret)


def _endpoint(method: str, path: str) -> str:
    if method == "POST" and path == "/2/tweets":
        return CREATE
    if method == "DELETE" and _DELETE_PATH.match(path):
        return DELETE
    if method == "GET" and path == "/2/tweets/search/recent":
        return SEARCH
    return f"{method} {path}"


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """X's error body (RFC 7807 problem details)."""
    return {"title": title, "detail": detail, "type": "about:blank", "status": status}


def _handler_class(stub: XApiStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._respond()

        def do_POST(self) -> None:
            self._respond()

        def do_DELETE(self) -> None:
            self._respond()

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            response = stub.handle(self.command, self.path, dict(self.headers.items()), body)
            payload = json.dumps(response.body).encode() if response.body is not None else b""
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            # Keep test output quiet; requests are recorded on the stub.
            pass

    return Handler

