"""Decide whether one raw API-Football response is a success, and raise the typed error if not.

A success has HTTP status 200, a JSON body that is an envelope (``get``,
``parameters``, ``errors``, ``results``, ``paging``, ``response``) and an empty
``errors`` (``[]`` or ``{}``). The ``ids=`` completeness check lives in the client.
"""

from __future__ import annotations

import json
import logging
import threading
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
_REPLACEMENT_CHARACTER = "\ufffd"

logger = logging.getLogger(__name__)

# Fixtures whose invalid UTF-8 was reported, so a repeat each poll is not logged again.
_reported_invalid_utf8: set[str] = set()
_reported_lock = threading.Lock()


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

    text, invalid_utf8 = _json_text(content)
    try:
        body = json.loads(text)
    except ValueError:
        raise ServerError(
            f"HTTP 200 with a body that is not valid JSON ({len(content)} bytes, truncated or damaged)",
            **context,
        ) from None
    except RecursionError:
        raise ServerError(
            f"HTTP 200 with a JSON body nested too deeply to decode ({len(content)} bytes)", **context
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
    if invalid_utf8 is not None:
        _report_invalid_utf8(body["response"], invalid_utf8, path, params)
    return body


def _json_text(content: bytes) -> tuple[str, UnicodeDecodeError | None]:
    """Decode a body for ``json.loads``, replacing invalid UTF-8 bytes with U+FFFD.

    One damaged string, such as a player name, then costs one garbled name
    instead of every fixture of the response. Returns the decoding error, if any.
    """
    encoding = json.detect_encoding(content)
    try:
        return content.decode(encoding), None
    except UnicodeDecodeError as error:
        return content.decode(encoding, "replace"), error


def _report_invalid_utf8(items: Any, error: UnicodeDecodeError, path: str, params: Mapping[str, str]) -> None:
    """Log, once per process and fixture, the fixtures whose text had invalid UTF-8 replaced."""
    affected = []
    for item in items if isinstance(items, list) else [items]:
        if _REPLACEMENT_CHARACTER in json.dumps(item, ensure_ascii=False):
            fixture = item.get("fixture") if isinstance(item, dict) else None
            affected.append(str(fixture.get("id")) if isinstance(fixture, dict) else "without an id")
    with _reported_lock:
        new = [fixture_id for fixture_id in affected if fixture_id not in _reported_invalid_utf8]
        _reported_invalid_utf8.update(new)
    if not new and affected:
        return
    query = "&".join(f"{name}={value}" for name, value in params.items())
    logger.warning(
        "the response to GET %s?%s has invalid UTF-8 (first at byte %d); the invalid bytes were replaced with "
        "U+FFFD in fixtures %s, which are used with that text",
        path,
        query,
        error.start,
        ", ".join(new) or "none (the damage was outside the fixtures)",
    )


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
    except (ValueError, RecursionError):
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
