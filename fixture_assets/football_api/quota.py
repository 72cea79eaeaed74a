"""The request quota that API-Football reports in its response headers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Header names as API-Football sends them. HTTP header names are
# case-insensitive, and the daily and per-minute names differ by "requests-".
DAY_LIMIT_HEADER = "x-ratelimit-requests-limit"
DAY_REMAINING_HEADER = "x-ratelimit-requests-remaining"
MINUTE_LIMIT_HEADER = "X-RateLimit-Limit"
MINUTE_REMAINING_HEADER = "X-RateLimit-Remaining"


@dataclass(frozen=True, slots=True)
class Quota:
    """Requests left for the day and for the current minute, or None where a header was absent."""

    day_remaining: int | None = None
    day_limit: int | None = None
    minute_remaining: int | None = None
    minute_limit: int | None = None


def parse_quota(headers: Mapping[str, str]) -> Quota | None:
    """Read the quota headers, or return None when the response carried none.

    ``headers`` must look names up case-insensitively, as ``httpx.Headers`` does.
    A header whose value is not a whole number counts as absent.
    """
    quota = Quota(
        day_remaining=_header_int(headers, DAY_REMAINING_HEADER),
        day_limit=_header_int(headers, DAY_LIMIT_HEADER),
        minute_remaining=_header_int(headers, MINUTE_REMAINING_HEADER),
        minute_limit=_header_int(headers, MINUTE_LIMIT_HEADER),
    )
    if quota == Quota():
        return None
    return quota


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        logger.warning("ignored the quota header %s: %r is not a whole number", name, value[:40])
        return None


class LowQuotaWarning:
    """Log a warning when the day's remaining requests drop below ``floor``.

    The warning is logged once each time the remainder falls below the floor,
    not on every response, and is re-armed when the remainder is back at or
    above the floor (after the 00:00 UTC reset).
    """

    def __init__(self, floor: int) -> None:
        self.floor = floor
        self._warned = False
        self._lock = threading.Lock()

    def observe(self, quota: Quota | None) -> None:
        if quota is None or quota.day_remaining is None:
            return

        with self._lock:
            if quota.day_remaining >= self.floor:
                self._warned = False
                return
            if self._warned:
                return
            self._warned = True

        logger.warning(
            "API-Football daily quota is low: %d of %s requests left, below the warning floor of %d",
            quota.day_remaining,
            quota.day_limit if quota.day_limit is not None else "an unknown number of",
            self.floor,
        )
