"""Post, reply and delete on X through tweepy's ``Client``, or only record in dry-run mode.

Credentials come from these environment variables, read by the Dagster
resource ``XResource``:

- ``X_API_KEY``, ``X_API_SECRET``, ``X_ACCESS_TOKEN``, ``X_ACCESS_TOKEN_SECRET``:
  OAuth 1.0a user context of the posting account. Posting, replying and
  deleting use them. All four unset means dry-run mode.
- ``X_BEARER_TOKEN``: OAuth 2.0 app-only token. Only clip search uses it.

tweepy 4.17 sends every request to the fixed host ``https://api.twitter.com``.
To reach another base URL, such as a local stand-in of the API, a requests
transport adapter on the client's session rewrites that host. The same
adapter gives every request a timeout, which tweepy does not set.

Errors from X become ``XApiError`` subclasses whose messages name the request,
the HTTP status, X's own error text and what to check, and never a credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter

POSTING_CREDENTIAL_VARS = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
SEARCH_CREDENTIAL_VAR = "X_BEARER_TOKEN"
DEFAULT_API_BASE_URL = "https://api.twitter.com"
DEFAULT_TIMEOUT_SECONDS = 15.0

# The host tweepy.Client (4.17) puts in front of every route.
_TWEEPY_HOST = "https://api.twitter.com"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# X's error text for a post whose text repeats a recent post of the account.
_DUPLICATE_CONTENT_MARKER = "duplicate content"
# Loggers that write request headers or OAuth parameters at DEBUG level:
# tweepy logs the bearer token, requests-oauthlib the consumer key and token.
_CREDENTIAL_LOGGERS = (
    "tweepy.client",
    "tweepy.auth",
    "requests_oauthlib.oauth1_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)


class XApiError(Exception):
    """A request to X failed. ``retryable`` is True if the same request may succeed later."""

    retryable = False

    def __init__(self, message: str, *, operation: str, status: int | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status


class XCredentialsRejected(XApiError):
    """X responded with 401 because a credential is wrong, revoked or belongs to another app."""


class XRateLimited(XApiError):
    """X responded with 429. ``reset_at`` is the Unix time from ``x-rate-limit-reset``, if sent."""

    retryable = True

    def __init__(self, message: str, *, operation: str, reset_at: float | None) -> None:
        super().__init__(message, operation=operation, status=429)
        self.reset_at = reset_at


class XServerError(XApiError):
    """X responded with 5xx, or the connection failed or timed out."""

    retryable = True


class XDuplicateContent(XApiError):
    """X responded with 403 because the text repeats a recent post of the account."""


class XRequestRejected(XApiError):
    """X rejected the request with another 4xx status; repeating it will not help."""


@dataclass(frozen=True, slots=True)
class PostingCredentials:
    """OAuth 1.0a user-context credentials. ``repr`` shows no value."""

    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str

    def __repr__(self) -> str:
        return "PostingCredentials(***)"

    def values(self) -> tuple[str, ...]:
        return (self.api_key, self.api_secret, self.access_token, self.access_token_secret)


class Publisher(Protocol):
    """Where posts go. ``dry_run`` publishers are never asked to post or delete."""

    dry_run: bool

    def create_post(self, text: str, *, in_reply_to: str | None = None) -> str:
        """Post ``text``, as a reply to ``in_reply_to`` if given, and return the new post id."""
        ...

    def delete_post(self, post_id: str) -> bool:
        """Delete a post and return False if it did not exist."""
        ...


class DryRunPublisher:
    """Stands in when no credentials are set; delivery records the text instead of posting."""

    dry_run = True

    def create_post(self, text: str, *, in_reply_to: str | None = None) -> str:
        raise RuntimeError("DryRunPublisher.create_post was called; a dry run must only record the text")

    def delete_post(self, post_id: str) -> bool:
        raise RuntimeError("DryRunPublisher.delete_post was called; a dry run must only record the text")


class TweepyPublisher:
    """Posts through ``tweepy.Client`` with OAuth 1.0a user context."""

    dry_run = False

    def __init__(
        self,
        credentials: PostingCredentials,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        redact_in_logs(credentials.values())
        self._client = build_client(
            consumer_key=credentials.api_key,
            consumer_secret=credentials.api_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            api_base_url=api_base_url,
            timeout_seconds=timeout_seconds,
        )

    def create_post(self, text: str, *, in_reply_to: str | None = None) -> str:
        operation = "POST /2/tweets"
        try:
            response = self._client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True)
        except (tweepy.TweepyException, requests.RequestException) as error:
            raise map_error(error, operation, POSTING_CREDENTIAL_VARS) from error
        data = response.data if isinstance(response.data, dict) else {}
        post_id = data.get("id")
        if not post_id:
            # A 2xx without an id leaves the post's existence unknown, so it
            # must not be retried blindly.
            raise XRequestRejected(
                f"{operation} succeeded but the response has no data.id, so the post id is unknown; "
                "check the account for the post",
                operation=operation,
            )
        return str(post_id)

    def delete_post(self, post_id: str) -> bool:
        operation = f"DELETE /2/tweets/{post_id}"
        try:
            response = self._client.delete_tweet(post_id, user_auth=True)
        except tweepy.NotFound:
            return False
        except (tweepy.TweepyException, requests.RequestException) as error:
            raise map_error(error, operation, POSTING_CREDENTIAL_VARS) from error
        data = response.data if isinstance(response.data, dict) else {}
        return bool(data.get("deleted", True))


def build_client(
    *,
    bearer_token: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    access_token: str | None = None,
    access_token_secret: str | None = None,
    api_base_url: str = DEFAULT_API_BASE_URL,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> tweepy.Client:
    """Build a tweepy Client whose requests go to ``api_base_url`` with a timeout.

    ``wait_on_rate_limit`` stays off: the caller decides how long a 429 may
    hold a run, and tweepy would sleep without limit.
    """
    base_url = validate_api_base_url(api_base_url)
    client = tweepy.Client(
        bearer_token=bearer_token,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        wait_on_rate_limit=False,
    )
    client.session.mount(_TWEEPY_HOST + "/", _ApiBaseUrlAdapter(base_url, timeout_seconds))
    return client


def validate_api_base_url(api_base_url: str) -> str:
    """Return the base URL without a trailing slash, or raise ValueError.

    Plain http is accepted only for a loopback host, because the bearer
    token travels in a header that anyone on the path could read.
    """
    base_url = api_base_url.rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"the X API base URL {api_base_url!r} is invalid; use a URL such as {DEFAULT_API_BASE_URL}"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError(
            f"the X API base URL {api_base_url!r} uses plain http for a remote host; "
            "use https, or http only for 127.0.0.1 or localhost"
        )
    if parts.path or parts.query or parts.fragment:
        raise ValueError(
            f"the X API base URL {api_base_url!r} has a path or query; give only scheme, host and port"
        )
    return base_url


def map_error(error: Exception, operation: str, credential_vars: Iterable[str]) -> XApiError:
    """Translate a tweepy or requests exception into an XApiError whose message names the fix."""
    if isinstance(error, requests.RequestException):
        return XServerError(
            f"{operation} failed before X responded ({type(error).__name__}); the request may or may not "
            "have reached X. Check the network, or the X API base URL if it was changed",
            operation=operation,
        )

    status = _status(error)
    detail = _api_text(error)
    if isinstance(error, tweepy.TooManyRequests):
        reset_at = float(error.reset_time) if error.reset_time is not None else None
        return XRateLimited(
            f"{operation} was rate limited by X (429){detail}", operation=operation, reset_at=reset_at
        )
    if isinstance(error, tweepy.Unauthorized):
        names = ", ".join(credential_vars)
        return XCredentialsRejected(
            f"X rejected the credentials for {operation} with 401 Unauthorized{detail}. "
            f"Check {names}: they must be current, belong to the same X app, and the app must "
            "have read and write permission",
            operation=operation,
            status=401,
        )
    if isinstance(error, tweepy.Forbidden) and _DUPLICATE_CONTENT_MARKER in detail.lower():
        return XDuplicateContent(
            f"X rejected {operation} as duplicate content (403){detail}",
            operation=operation,
            status=403,
        )
    if isinstance(error, tweepy.TwitterServerError):
        return XServerError(
            f"{operation} failed with an X server error ({status}){detail}", operation=operation, status=status
        )
    hint = ""
    if isinstance(error, tweepy.Forbidden):
        hint = "; check that the X app has read and write permission and the account may post"
    return XRequestRejected(f"X rejected {operation} ({status}){detail}{hint}", operation=operation, status=status)


def redact_in_logs(secrets: Iterable[str | None]) -> None:
    """Replace ``secrets`` by *** in what tweepy and oauthlib log, however their loggers are set."""
    _REDACTION.add(secrets)
    for name in _CREDENTIAL_LOGGERS:
        log = logging.getLogger(name)
        if _REDACTION not in log.filters:
            log.addFilter(_REDACTION)


class _SecretRedaction(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str | None]) -> None:
        self._secrets.update(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


_REDACTION = _SecretRedaction()


class _ApiBaseUrlAdapter(HTTPAdapter):
    """Send tweepy's requests to another base URL, each with a timeout."""

    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        super().__init__()
        self._base_url = base_url
        self._timeout_seconds = timeout_seconds

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._base_url != _TWEEPY_HOST and request.url and request.url.startswith(_TWEEPY_HOST):
            request.url = self._base_url + request.url[len(_TWEEPY_HOST) :]
            # The session chose proxies for api.twitter.com; choose again for
            # the new host so that NO_PROXY applies to it.
            kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_seconds
        return super().send(request, **kwargs)


def _status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _api_text(error: Exception) -> str:
    messages = [str(message) for message in getattr(error, "api_messages", []) if message]
    return f": {'; '.join(messages)}" if messages else ""
