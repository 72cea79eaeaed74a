"""Settings of the API-Football client: where the API is, how to authenticate, limits."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import httpx

# Environment variables read by ``ApiClientSettings.from_env``.
API_KEY_ENV = "API_FOOTBALL_KEY"
BASE_URL_ENV = "API_FOOTBALL_BASE_URL"
AUTH_MODE_ENV = "API_FOOTBALL_AUTH_MODE"

DIRECT_BASE_URL = "https://v3.football.api-sports.io"
RAPIDAPI_BASE_URL = "https://api-football-v1.p.rapidapi.com/v3"
RAPIDAPI_HOST = "api-football-v1.p.rapidapi.com"

AuthMode = Literal["direct", "rapidapi"]
AUTH_MODES: tuple[str, ...] = ("direct", "rapidapi")

# More parallel chunks than this would only trip the per-minute rate limit.
MAX_IN_FLIGHT_LIMIT = 32


@dataclass(frozen=True)
class ApiClientSettings:
    """Where the API is, how to authenticate, and the client's limits.

    ``api_key`` is left out of ``repr`` so that the key never reaches a log
    line or a traceback through these settings. With ``auth_mode="direct"``
    the key goes in ``x-apisports-key``. With ``"rapidapi"`` it goes in
    ``x-rapidapi-key``, and ``x-rapidapi-host`` carries ``rapidapi_host``.
    A server error is retried once within the call, after a random delay of
    0.5 to 1.5 times ``retry_delay_s``.
    """

    base_url: str = DIRECT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    auth_mode: AuthMode = "direct"
    rapidapi_host: str = RAPIDAPI_HOST
    max_in_flight: int = 4
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    quota_warning_floor: int = 100
    archive_dir: Path | None = None
    retry_delay_s: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _validated_base_url(self.base_url))
        _validate_api_key(self.api_key)
        _validate_auth_mode(self.auth_mode, self.base_url, self.rapidapi_host)
        _validate_count("max_in_flight", self.max_in_flight, minimum=1, maximum=MAX_IN_FLIGHT_LIMIT)
        _validate_seconds("connect_timeout_s", self.connect_timeout_s, allow_zero=False)
        _validate_seconds("read_timeout_s", self.read_timeout_s, allow_zero=False)
        _validate_count("quota_warning_floor", self.quota_warning_floor, minimum=0)
        _validate_seconds("retry_delay_s", self.retry_delay_s, allow_zero=True)
        if self.archive_dir is not None:
            object.__setattr__(self, "archive_dir", Path(self.archive_dir))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ApiClientSettings:
        """Build settings from ``API_FOOTBALL_KEY``, ``API_FOOTBALL_AUTH_MODE`` and
        ``API_FOOTBALL_BASE_URL``. Keyword arguments override any field.

        The base URL defaults to the one that matches the auth mode.
        """
        environ = os.environ if environ is None else environ
        auth_mode = environ.get(AUTH_MODE_ENV, "").strip() or "direct"
        default_base_url = RAPIDAPI_BASE_URL if auth_mode == "rapidapi" else DIRECT_BASE_URL
        values: dict[str, Any] = {
            "api_key": environ.get(API_KEY_ENV) or None,
            "auth_mode": auth_mode,
            "base_url": environ.get(BASE_URL_ENV, "").strip() or default_base_url,
        }
        values.update(overrides)
        return cls(**values)

    def with_changes(self, **changes: Any) -> ApiClientSettings:
        return replace(self, **changes)

    def auth_headers(self) -> dict[str, str]:
        """Return the request headers that carry the key, or none when there is no key."""
        if self.api_key is None:
            return {}
        if self.auth_mode == "rapidapi":
            return {"x-rapidapi-key": self.api_key, "x-rapidapi-host": self.rapidapi_host}
        return {"x-apisports-key": self.api_key}


def _validated_base_url(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"base_url must be a string such as {DIRECT_BASE_URL!r}, got {type(value).__name__}")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as error:
        raise ValueError(f"base_url {value!r} is not a valid URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"base_url {value!r} must be an http:// or https:// URL with a host, such as {DIRECT_BASE_URL!r}"
        )
    if url.query or url.fragment:
        raise ValueError(f"base_url {value!r} must not have a query or fragment")
    return value.rstrip("/")


def _validate_api_key(api_key: str | None) -> None:
    # The messages below never include the key itself.
    if api_key is None:
        return
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a string, got {type(api_key).__name__}")
    if not api_key.strip():
        raise ValueError(f"api_key is empty: set {API_KEY_ENV} to the key, or leave api_key unset")
    if any(character.isspace() or not character.isprintable() for character in api_key):
        raise ValueError(
            f"api_key contains whitespace or control characters: check the value of {API_KEY_ENV} "
            "for a trailing newline or quotes"
        )


def _validate_auth_mode(auth_mode: str, base_url: str, rapidapi_host: str) -> None:
    if auth_mode not in AUTH_MODES:
        raise ValueError(f"auth_mode {auth_mode!r} is invalid: use one of {', '.join(AUTH_MODES)}")
    if auth_mode == "rapidapi" and base_url == DIRECT_BASE_URL:
        raise ValueError(
            f"auth_mode 'rapidapi' needs the RapidAPI base URL {RAPIDAPI_BASE_URL!r}, "
            f"but base_url is the direct API {DIRECT_BASE_URL!r}, which rejects RapidAPI keys"
        )
    if auth_mode == "rapidapi" and (not rapidapi_host or any(c.isspace() for c in rapidapi_host)):
        raise ValueError(f"rapidapi_host {rapidapi_host!r} must be a host name such as {RAPIDAPI_HOST!r}")


def _validate_count(name: str, value: int, *, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ValueError(f"{name} is {value}, but it must be {bounds}")


def _validate_seconds(name: str, value: float, *, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expected = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{name} is {value}, but it must be a finite number of seconds, {expected}")
