"""Decide whether one raw API-Football response is a success, and raise the typed error if not.

A success has HTTP status 200, a JSON body that is an envelope (``get``,
``parameters``, ``errors``, ``results``, ``paging``, ``response``) and an empty
``errors`` (``[]`` or ``{}``). The ``ids=`` completeness check lives in the client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fixture_assets.football_api.errors import (
    AuthenticationError,
    DailyQuotaExhaustedError,
    FootballApiError,
    RateLimitError,
    RequestParameterError,
    ServerError,
)
from fixture_assets.football_api.quota import Quota

ENVELOPE_KEYS = ("get", "parameters", "errors", "results", "paging", "response")

_AUTH_ERROR_KEYS = ("token", "plan")
_DAILY_QUOTA_KEYS = ("requests",)
_RATE_LIMIT_KEYS = ("rateLimit",)
# The API reports its own crashes as {"time", "bug", "report"}.
_SERVER_BUG_KEYS = ("bug", "report")
_MAX_EXCERPT_CHARS = 200


def decode_envelope(
    status_code: int,
    content: bytes,
    *,
    path: str,
    params: Mapping[str, str],
    quota: Quota | None,
    secret: str | None = None,
) -> dict[str, Any]:
    """Return the decoded envelope of a successful response, or raise a FootballApiError.

    ``secret`` (the API key) is blanked out of any body text copied into a message.
    """
    context = {"path": path, "params": params, "status_code": status_code, "quota": quota}

    if status_code != 200:
        raise _status_error(status_code, content, secret, context)

    try:
        body = json.loads(content)
    except ValueError:
        raise ServerError(
            f"HTTP 200 with a body that is not valid JSON ({len(content)} bytes, truncated or damaged)",
            **context,
        ) from None

    missing = [key for key in ENVELOPE_KEYS if not isinstance(body, dict) or key not in body]
    if missing:
        raise ServerError(
            f"HTTP 200 with a body that is not an API-Football envelope (missing {', '.join(missing)}): "
            f"{_excerpt(content, secret)}",
            **context,
        )

    errors = body["errors"]
    if not isinstance(errors, (list, dict)):
        raise ServerError(f"the envelope's errors is {type(errors).__name__}, expected a list or an object", **context)
    if errors:
        raise _errors_error(errors, secret, context)
    return body


def _status_error(status_code: int, content: bytes, secret: str | None, context: dict[str, Any]) -> FootballApiError:
    message = _api_message(content, secret)
    detail = f"HTTP {status_code}" + (f" ({message})" if message else "")

    if status_code == 429:
        return RateLimitError(detail, **context)
    if status_code in (401, 403):
        return AuthenticationError(detail, **context)
    if status_code in (204, 499) or status_code >= 500:
        return ServerError(detail, **context)
    if 400 <= status_code < 500:
        return RequestParameterError(detail, **context)
    return ServerError(f"unexpected {detail}", **context)


def _errors_error(errors: list[Any] | dict[str, Any], secret: str | None, context: dict[str, Any]) -> FootballApiError:
    if isinstance(errors, list):
        detail = "the API returned errors: " + _clean("; ".join(str(item) for item in errors), secret)
        return RequestParameterError(detail, **context)

    detail = "the API returned errors: " + _clean(
        "; ".join(f"{key}: {value}" for key, value in errors.items()), secret
    )
    if any(key in errors for key in _AUTH_ERROR_KEYS):
        return AuthenticationError(detail, **context)
    if any(key in errors for key in _DAILY_QUOTA_KEYS):
        return DailyQuotaExhaustedError(detail, **context)
    if any(key in errors for key in _RATE_LIMIT_KEYS):
        return RateLimitError(detail, **context)
    if any(key in errors for key in _SERVER_BUG_KEYS):
        return ServerError(detail, **context)
    return RequestParameterError(detail, **context)


def _api_message(content: bytes, secret: str | None) -> str:
    """Return the API's own explanation from an error body, if it has one."""
    if not content:
        return ""
    try:
        body = json.loads(content)
    except ValueError:
        return _excerpt(content, secret)
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return _clean(body["message"], secret)
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            return _clean("; ".join(f"{key}: {value}" for key, value in errors.items()), secret)
    return _excerpt(content, secret)


def _excerpt(content: bytes, secret: str | None) -> str:
    return _clean(content[: _MAX_EXCERPT_CHARS * 2].decode("utf-8", "replace"), secret)


def _clean(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    if len(text) > _MAX_EXCERPT_CHARS:
        text = text[:_MAX_EXCERPT_CHARS] + "..."
    return text
