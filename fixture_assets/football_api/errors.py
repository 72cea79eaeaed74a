"""Typed errors of the API-Football client, each with the action its caller should take.

The message of every error names the request that failed, the reason, and
the next step. It never contains the API key, because the key travels in a
request header and no request header is copied into a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from fixture_assets.football_api.quota import Quota

# Messages shorten long id lists to stay readable. The full list stays in ``params``.
_MAX_QUERY_CHARS = 120


class ErrorAction(StrEnum):
    """What the caller of a failed request should do."""

    RETRY_NEXT_TICK = "retry_next_tick"
    PAUSE_UNTIL_MIDNIGHT_UTC = "pause_until_midnight_utc"
    FAIL = "fail"


class FootballApiError(Exception):
    """A request to API-Football that did not return a usable response.

    ``path`` is the endpoint (``/fixtures``), ``params`` the query parameters,
    ``status_code`` the HTTP status or None when no response arrived, and
    ``quota`` the quota headers of the failed response when it had them.
    """

    action: ClassVar[ErrorAction] = ErrorAction.RETRY_NEXT_TICK
    advice: ClassVar[str] = "Retry on the next poll."

    def __init__(
        self,
        detail: str,
        *,
        path: str,
        params: Mapping[str, str] | None = None,
        status_code: int | None = None,
        quota: Quota | None = None,
    ) -> None:
        self.detail = detail
        self.path = path
        self.params = dict(params or {})
        self.status_code = status_code
        self.quota = quota
        super().__init__(f"GET {self.request_line} failed: {detail.rstrip('.')}. {self.advice}")

    def __reduce__(self) -> tuple[object, ...]:
        # Default exception pickling calls ``cls(*args)``, which fails with this
        # keyword-only constructor. Process pools pickle the errors they pass on.
        return (_restore_error, (type(self), self.args, self.__dict__.copy()))

    @property
    def request_line(self) -> str:
        """The path and query, shortened for messages."""
        query = "&".join(f"{name}={value}" for name, value in self.params.items())
        if len(query) > _MAX_QUERY_CHARS:
            query = query[:_MAX_QUERY_CHARS] + "..."
        return f"{self.path}?{query}" if query else self.path


class RateLimitError(FootballApiError):
    """The per-minute request limit was hit (``errors.rateLimit`` or HTTP 429)."""

    advice = "The per-minute rate limit is used up. Retry on the next poll."


class DailyQuotaExhaustedError(FootballApiError):
    """The plan's daily request quota is used up (``errors.requests``)."""

    action = ErrorAction.PAUSE_UNTIL_MIDNIGHT_UTC
    advice = "The daily request quota is used up. Stop polling until 00:00 UTC, when it resets."


class AuthenticationError(FootballApiError):
    """The API key is missing or invalid, or the plan does not allow the request.

    Raised for ``errors.token``, ``errors.plan`` and HTTP 401/403. Never retried.
    """

    action = ErrorAction.FAIL
    advice = (
        "Check the API key in the environment, the auth mode (direct or RapidAPI) "
        "and the subscription plan. The request is not retried."
    )


class RequestParameterError(FootballApiError):
    """The API rejected the request's parameters, or the endpoint does not exist."""

    action = ErrorAction.FAIL
    advice = "Fix the request parameters or the base URL. The request is not retried."


class ServerError(FootballApiError):
    """The API failed on its side: HTTP 499, 5xx or 204, a body that is not an
    envelope, invalid or truncated JSON, or a dropped connection.

    The client has already retried the request once when this reaches the caller.
    """

    advice = "The API failed on its side, and one retry failed too. Retry on the next poll."


class ApiTimeoutError(FootballApiError):
    """No response arrived within the connect or read timeout. Not retried within the call."""

    advice = "The API did not respond in time. Retry on the next poll."


class MissingFixturesError(FootballApiError):
    """A successful ``ids=`` response that lacks some of the requested fixtures.

    Such a response counts as a failed poll, because an absent fixture gives
    no information about its goals. None of the chunk is used.
    """

    advice = "The response is incomplete and was not used. Retry on the next poll."

    def __init__(
        self,
        missing_ids: tuple[int, ...],
        *,
        path: str,
        params: Mapping[str, str] | None = None,
        status_code: int | None = None,
        quota: Quota | None = None,
    ) -> None:
        self.missing_ids = missing_ids
        shown = ", ".join(str(fixture_id) for fixture_id in missing_ids[:10])
        if len(missing_ids) > 10:
            shown += f" and {len(missing_ids) - 10} more"
        super().__init__(
            f"the response lacks {len(missing_ids)} requested fixture(s): {shown}",
            path=path,
            params=params,
            status_code=status_code,
            quota=quota,
        )


def _restore_error(cls: type[FootballApiError], args: tuple[object, ...], state: dict[str, object]) -> FootballApiError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error
