"""A real HTTP server on 127.0.0.1 that serves API-Football responses from a replay source."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.envelopes import JSON_HEADERS, MISSING_KEY_ERROR, errors_response
from fixture_assets.replay.faults import Fault
from fixture_assets.replay.protocol import ApiRequest, ApiResponse, ReplaySource

logger = logging.getLogger(__name__)

# RapidAPI's base URL ends in /v3 and the direct API's does not. Both are served.
_RAPIDAPI_PREFIX = "/v3"


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """One request the server responded to.

    ``at`` is the virtual time of the response, ``auth_header`` names the key
    header the request carried (if any), and ``fault`` names the fault applied.
    """

    path: str
    params: dict[str, str]
    at: datetime
    status: int
    auth_header: str | None
    rapidapi_host: str | None
    fault: str | None

    @property
    def ids(self) -> tuple[int, ...]:
        """The fixture ids of an ``ids=`` request, or ``()``."""
        raw = self.params.get("ids", "")
        return tuple(int(part) for part in raw.split("-") if part.isdigit())


@dataclass
class _QueuedFault:
    fault: Fault
    remaining: int


class ReplayServer:
    """Serves a ReplaySource over HTTP on ``host``, 127.0.0.1 by default.

    The API key is accepted in either header style but not required. When
    ``expected_api_key`` is set, a missing or different key gets the API's
    ``errors.token`` response. ``requests`` lists every request served.
    """

    def __init__(
        self,
        source: ReplaySource,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: VirtualClock | None = None,
        expected_api_key: str | None = None,
    ) -> None:
        self.source = source
        self.host = host
        self.port = port
        self.clock = clock or VirtualClock(source.initial_time())
        self._expected_api_key = expected_api_key
        self._lock = threading.Lock()
        self._faults: list[_QueuedFault] = []
        self._requests: list[ServedRequest] = []
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._in_flight = 0
        self._peak_in_flight = 0

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the replay server is not started: call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[ServedRequest]:
        """A copy of the requests served so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def peak_in_flight(self) -> int:
        """The maximum number of requests that were in progress at the same time."""
        with self._lock:
            return self._peak_in_flight

    def clear_requests(self) -> None:
        """Forget the served requests and reset the peak of requests in flight."""
        with self._lock:
            self._requests.clear()
            self._peak_in_flight = self._in_flight

    def inject_fault(self, fault: Fault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests that it matches."""
        if times < 1:
            raise ValueError(f"times is {times}, but a fault must apply to at least 1 request")
        with self._lock:
            self._faults.append(_QueuedFault(fault, times))

    def start(self) -> ReplayServer:
        if self._httpd is not None:
            raise RuntimeError(f"the replay server is already running at {self.url}")
        self._stopping.clear()
        self._httpd = _HttpServer((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="replay-server", daemon=True
        )
        self._thread.start()
        logger.info("replay server started at %s, serving %s", self.url, self.source.description)
        return self

    def stop(self) -> None:
        """Stop serving and close open connections. Delayed responses are cut short."""
        if self._httpd is None:
            return
        url = self.url
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _shut_down(connection)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None
        logger.info("replay server at %s stopped after %d requests", url, len(self._requests))

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def respond(self, request: ApiRequest, headers: Any) -> ApiResponse:
        """Return the response to one request, with any matching fault applied, and record it."""
        now = self.clock.now()
        if self._expected_api_key is not None and _request_key(headers) != self._expected_api_key:
            response = errors_response(request.path.strip("/"), request.params, MISSING_KEY_ERROR)
        else:
            response = self._source_response(request, now)

        fault = self._take_fault(request)
        if fault is not None:
            response = fault.apply(request, response)

        self._record(request, headers, now, response, fault)
        return response

    def wait_or_stop(self, seconds: float) -> bool:
        """Wait ``seconds`` for a delay fault. Return False if the server stopped meanwhile."""
        return not self._stopping.wait(seconds)

    def track_connection(self, connection: socket.socket, *, is_open: bool) -> None:
        with self._lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def track_request(self, *, started: bool) -> None:
        with self._lock:
            self._in_flight += 1 if started else -1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def _source_response(self, request: ApiRequest, now: datetime) -> ApiResponse:
        try:
            return self.source.respond(request, now)
        except Exception:  # noqa: BLE001 - a source bug becomes a 500, as a real server's would
            logger.exception(
                "replay source %s failed on GET %s %s", self.source.description, request.path, request.params
            )
            return ApiResponse(500, {"message": "The replay source failed. See the replay server log."}, JSON_HEADERS)

    def _take_fault(self, request: ApiRequest) -> Fault | None:
        with self._lock:
            for queued in self._faults:
                if queued.fault.matches(request):
                    queued.remaining -= 1
                    if queued.remaining == 0:
                        self._faults.remove(queued)
                    return queued.fault
        return None

    def _record(
        self, request: ApiRequest, headers: Any, now: datetime, response: ApiResponse, fault: Fault | None
    ) -> None:
        auth_header = next((name for name in ("x-apisports-key", "x-rapidapi-key") if headers.get(name)), None)
        served = ServedRequest(
            path=request.path,
            params=dict(request.params),
            at=now,
            status=response.status,
            auth_header=auth_header,
            rapidapi_host=headers.get("x-rapidapi-host"),
            fault=type(fault).__name__ if fault is not None else None,
        )
        with self._lock:
            self._requests.append(served)
        logger.debug("responded to GET %s %s with HTTP %d at %s", request.path, request.params, response.status, now)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], replay: ReplayServer) -> None:
        self.replay = replay
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open between requests, as the real API does.
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes. Without TCP_NODELAY,
        # Nagle's algorithm can hold the body back until a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.replay.track_connection(self.connection, is_open=True)

    def finish(self) -> None:
        self.server.replay.track_connection(self.connection, is_open=False)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        url = urlsplit(self.path)
        path = url.path
        if path == _RAPIDAPI_PREFIX or path.startswith(_RAPIDAPI_PREFIX + "/"):
            path = path[len(_RAPIDAPI_PREFIX) :] or "/"
        request = ApiRequest(path=path.rstrip("/") or "/", params=dict(parse_qsl(url.query, keep_blank_values=True)))

        replay = self.server.replay
        replay.track_request(started=True)
        try:
            self._respond(replay, request)
        finally:
            replay.track_request(started=False)

    def _respond(self, replay: ReplayServer, request: ApiRequest) -> None:
        response = replay.respond(request, self.headers)
        if response.delay_s and not replay.wait_or_stop(response.delay_s):
            self.close_connection = True
            return
        try:
            self._write(response)
        except OSError as error:
            # The client gave up (a timeout) or the server is stopping.
            logger.debug("could not send the response to GET %s: %s", request.path, error)
            self.close_connection = True

    def _write(self, response: ApiResponse) -> None:
        body = response.encoded_body()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            # HTTP forbids a Content-Length header in a 204 response.
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()

        if response.truncate:
            # Announce the full length, send half, and hang up, as a dropped connection does.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        logger.debug("%s - %s", self.address_string(), format % args)


def _request_key(headers: Any) -> str | None:
    return headers.get("x-apisports-key") or headers.get("x-rapidapi-key")


def _shut_down(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
