"""Quota headers for replay responses that were not recorded with their own."""

from __future__ import annotations

import threading
from datetime import date, datetime

from fixture_assets.football_api.quota import (
    DAY_LIMIT_HEADER,
    DAY_REMAINING_HEADER,
    MINUTE_LIMIT_HEADER,
    MINUTE_REMAINING_HEADER,
)

# The limits of API-Football's Pro plan: 7,500 requests a day, 300 a minute.
DEFAULT_DAY_LIMIT = 7500
DEFAULT_MINUTE_LIMIT = 300


class SimulatedQuota:
    """Counts served requests per UTC day and per clock minute of virtual time.

    The quota is reported but never enforced, so a replay that runs past it
    keeps getting responses, with 0 remaining. Inject a fault to test an
    exhausted quota.
    """

    def __init__(self, day_limit: int = DEFAULT_DAY_LIMIT, minute_limit: int = DEFAULT_MINUTE_LIMIT) -> None:
        self.day_limit = day_limit
        self.minute_limit = minute_limit
        self._lock = threading.Lock()
        self._day: date | None = None
        self._day_used = 0
        self._minute: datetime | None = None
        self._minute_used = 0

    def count_request(self, now: datetime) -> dict[str, str]:
        """Count one request at virtual time ``now`` and return the quota headers to send with it."""
        return self._headers(now, counted=1)

    def headers(self, now: datetime) -> dict[str, str]:
        """Return the quota headers at ``now`` without counting a request."""
        return self._headers(now, counted=0)

    def used_today(self, now: datetime) -> int:
        with self._lock:
            self._roll_over(now)
            return self._day_used

    def _headers(self, now: datetime, *, counted: int) -> dict[str, str]:
        with self._lock:
            self._roll_over(now)
            self._day_used += counted
            self._minute_used += counted
            day_remaining = max(self.day_limit - self._day_used, 0)
            minute_remaining = max(self.minute_limit - self._minute_used, 0)
        return {
            DAY_LIMIT_HEADER: str(self.day_limit),
            DAY_REMAINING_HEADER: str(day_remaining),
            MINUTE_LIMIT_HEADER: str(self.minute_limit),
            MINUTE_REMAINING_HEADER: str(minute_remaining),
        }

    def _roll_over(self, now: datetime) -> None:
        minute = now.replace(second=0, microsecond=0)
        if self._day != now.date():
            self._day, self._day_used = now.date(), 0
        if self._minute != minute:
            self._minute, self._minute_used = minute, 0
