"""tweepy against the local X API stand-in: requests, authentication and the mapping of X's responses."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fixture_assets.twitter.clips import ClipQuery, ClipSearcher, build_clip_query
from fixture_assets.twitter.publisher import (
    PostingCredentials,
    TweepyPublisher,
    XCredentialsRejected,
    XDuplicateContent,
    XRateLimited,
    XRequestRejected,
    XServerError,
    validate_api_base_url,
)

from .twitter_fixtures import CREDENTIALS, NOW, x_stub  # noqa: F401
from .x_api_stub import CREATE, DELETE, SEARCH, StubResponse, XApiStub

SECRETS = list(CREDENTIALS.values())


def credentials(**changes: str) -> PostingCredentials:
    values = {
        "api_key": CREDENTIALS["X_API_KEY"],
        "api_secret": CREDENTIALS["X_API_SECRET"],
        "access_token": CREDENTIALS["X_ACCESS_TOKEN"],
        "access_token_secret": CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
    }
    values.update(changes)
    return PostingCredentials(**values)


@pytest.fixture
def publisher(x_stub: XApiStub) -> TweepyPublisher:  # noqa: F811
    return TweepyPublisher(credentials(), api_base_url=x_stub.base_url)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_create_post_and_reply(publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    alert_id = publisher.create_post("GOAL! Arsenal 1-0 Chelsea")
    reply_id = publisher.create_post("Correction", in_reply_to=alert_id)

    assert x_stub.posts[alert_id] == {"text": "GOAL! Arsenal 1-0 Chelsea", "in_reply_to": None}
    assert x_stub.posts[reply_id] == {"text": "Correction", "in_reply_to": alert_id}


def test_posting_uses_oauth1_user_context(publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    publisher.create_post("GOAL!")

    [request] = x_stub.requests_to(CREATE)
    authorization = request.headers["Authorization"]
    assert authorization.startswith("OAuth ")
    assert 'oauth_signature_method="HMAC-SHA1"' in authorization
    assert CREDENTIALS["X_BEARER_TOKEN"] not in authorization


def test_secrets_never_sent(publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    post_id = publisher.create_post("GOAL!")
    publisher.delete_post(post_id)

    for request in x_stub.requests:
        raw = request.raw_text()
        assert CREDENTIALS["X_API_SECRET"] not in raw
        assert CREDENTIALS["X_ACCESS_TOKEN_SECRET"] not in raw
        assert CREDENTIALS["X_BEARER_TOKEN"] not in raw
        without_authorization = raw.replace(request.headers["Authorization"], "")
        assert_no_secret(without_authorization)


def test_wrong_secret_rejected_by_signature(x_stub: XApiStub) -> None:  # noqa: F811
    publisher = TweepyPublisher(credentials(api_secret="not-the-secret"), api_base_url=x_stub.base_url)

    with pytest.raises(XCredentialsRejected) as raised:
        publisher.create_post("GOAL!")

    message = str(raised.value)
    assert "401 Unauthorized" in message
    for name in ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
        assert name in message
    assert_no_secret(message)
    assert "not-the-secret" not in message
    assert x_stub.posts == {}


def test_duplicate_content_mapped(publisher: TweepyPublisher) -> None:
    publisher.create_post("GOAL! Arsenal 1-0 Chelsea")

    with pytest.raises(XDuplicateContent) as raised:
        publisher.create_post("GOAL! Arsenal 1-0 Chelsea")

    assert raised.value.status == 403
    assert "duplicate content" in str(raised.value)


def test_other_forbidden_is_rejection(publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    x_stub.enqueue(CREATE, StubResponse.forbidden("You are not permitted to perform this action."))

    with pytest.raises(XRequestRejected) as raised:
        publisher.create_post("GOAL!")

    assert raised.value.retryable is False
    assert "read and write permission" in str(raised.value)


def test_rate_limit_carries_reset(publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    reset_at = int(time.time()) + 120
    x_stub.enqueue(CREATE, StubResponse.rate_limited(reset_at))

    with pytest.raises(XRateLimited) as raised:
        publisher.create_post("GOAL!")

    assert raised.value.reset_at == reset_at
    assert raised.value.retryable is True
    assert x_stub.posts == {}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_retryable(publisher: TweepyPublisher, x_stub: XApiStub, status: int) -> None:  # noqa: F811
    x_stub.enqueue(CREATE, StubResponse.server_error(status))

    with pytest.raises(XServerError) as raised:
        publisher.create_post("GOAL!")

    assert raised.value.status == status
    assert raised.value.retryable is True


def test_connection_refused_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    publisher = TweepyPublisher(credentials(), api_base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(XServerError) as raised:
        publisher.create_post("GOAL!")

    assert "ConnectionError" in str(raised.value)
    assert_no_secret(str(raised.value))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A listening socket that never responds, to make requests time out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_request_timeout_applied(silent_server: str) -> None:
    publisher = TweepyPublisher(credentials(), api_base_url=silent_server, timeout_seconds=0.2)

    with pytest.raises(XServerError) as raised:
        publisher.create_post("GOAL!")

    assert "Timeout" in str(raised.value)


def test_delete_post(publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    post_id = publisher.create_post("GOAL!")

    assert publisher.delete_post(post_id) is True
    assert publisher.delete_post(post_id) is False
    assert x_stub.deleted == [post_id]
    assert len(x_stub.requests_to(DELETE)) == 2


def test_debug_logs_redact_credentials(
    publisher: TweepyPublisher, x_stub: XApiStub, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    x_stub.search_results = [{"id": "7", "text": "what a goal", "author_id": "3", "username": "fan"}]
    searcher = ClipSearcher(CREDENTIALS["X_BEARER_TOKEN"], api_base_url=x_stub.base_url)

    with caplog.at_level(logging.DEBUG):
        publisher.create_post("GOAL!")
        searcher.search(ClipQuery('"Saka" has:videos', NOW, None))

    assert "Bearer ***" in caplog.text
    assert_no_secret(caplog.text)


def test_clip_search_uses_bearer_token(x_stub: XApiStub) -> None:  # noqa: F811
    x_stub.search_results = [
        {"id": "101", "text": "Saka!!", "author_id": "9", "username": "gunnerfan"},
        {"id": "102", "text": "what a finish", "author_id": "10", "username": "clips"},
    ]
    searcher = ClipSearcher(CREDENTIALS["X_BEARER_TOKEN"], api_base_url=x_stub.base_url)
    start = datetime(2026, 5, 2, 14, 55, tzinfo=UTC)

    urls = searcher.search(ClipQuery('"Saka" ("Arsenal" OR "Chelsea") has:videos -is:retweet', start, None))

    assert urls == ["https://x.com/gunnerfan/status/101", "https://x.com/clips/status/102"]
    [request] = x_stub.requests_to(SEARCH)
    assert request.headers["Authorization"] == f"Bearer {CREDENTIALS['X_BEARER_TOKEN']}"
    assert request.query["query"] == ['"Saka" ("Arsenal" OR "Chelsea") has:videos -is:retweet']
    assert request.query["start_time"] == ["2026-05-02T14:55:00Z"]
    assert "end_time" not in request.query


def test_clip_search_bad_token_names_variable(x_stub: XApiStub) -> None:  # noqa: F811
    searcher = ClipSearcher("wrong-bearer-token", api_base_url=x_stub.base_url)

    with pytest.raises(XCredentialsRejected) as raised:
        searcher.search(ClipQuery('"Saka" has:videos', NOW, None))

    assert "X_BEARER_TOKEN" in str(raised.value)
    assert "wrong-bearer-token" not in str(raised.value)


def test_clip_query_window_and_terms() -> None:
    seen = datetime(2026, 5, 2, 15, 0, tzinfo=UTC)

    early = build_clip_query(
        scorer='Bukayo "Starboy" Saka', home="Arsenal", away="Chelsea", goal_seen_at=seen,
        now=seen, minutes_before=5, minutes_after=10,
    )
    late = build_clip_query(
        scorer="B. Saka", home="Arsenal", away="Chelsea", goal_seen_at=seen,
        now=datetime(2026, 5, 2, 16, 0, tzinfo=UTC), minutes_before=5, minutes_after=10,
    )
    unknown = build_clip_query(
        scorer=None, home="Arsenal", away="Chelsea", goal_seen_at=seen, now=seen, minutes_before=5, minutes_after=10,
    )

    assert early is not None and late is not None
    assert early.query == '"Saka" ("Arsenal" OR "Chelsea") has:videos -is:retweet'
    assert early.start_time == datetime(2026, 5, 2, 14, 55, tzinfo=UTC)
    assert early.end_time is None
    assert late.end_time == datetime(2026, 5, 2, 15, 10, tzinfo=UTC)
    assert unknown is None


@pytest.mark.parametrize(
    ("url", "message_part"),
    [
        ("http://api.example.com", "plain http for a remote host"),
        ("ftp://127.0.0.1", "is invalid"),
        ("https://api.twitter.com/2", "has a path or query"),
        ("not a url", "is invalid"),
    ],
)
def test_invalid_base_url_rejected(url: str, message_part: str) -> None:
    with pytest.raises(ValueError) as raised:
        validate_api_base_url(url)

    assert message_part in str(raised.value)


def test_valid_base_urls() -> None:
    assert validate_api_base_url("https://api.twitter.com/") == "https://api.twitter.com"
    assert validate_api_base_url("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    assert validate_api_base_url("https://api.x.com") == "https://api.x.com"


def test_credentials_repr_hides_values() -> None:
    assert_no_secret(repr(credentials()))
