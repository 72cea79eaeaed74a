"""State the poller carries from one tick to the next.

It lives in the Dagster sensor's cursor (or in the replay runner's memory).
Losing it is harmless: a lost quota pause costs one request that fails again
and restores it. Nothing here decides whether a goal is alerted; MongoDB does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

# A repeated fault is logged on its first occurrence and then at these counts,
# and after that once every _REPEAT_LOG_EVERY occurrences (one a day at one
# tick a minute).
_REPEAT_LOG_AT = frozenset({10, 60})
_REPEAT_LOG_EVERY = 1440


@dataclass(slots=True)
class FaultCount:
    count: int
    first_at: datetime
    last_message: str


@dataclass(slots=True)
class PollerState:
    # Set when the API reported the daily quota exhausted; no request is sent before it.
    paused_until: datetime | None = None
    # Fixture ids that a recent response lacked. They are fetched in requests of
    # their own, so one missing id cannot block the 19 fixtures sharing its chunk.
    missing_ids: tuple[int, ...] = ()
    # When each missing id was first missed, ISO 8601. An id missing for long
    # is polled less often, because the API may have dropped the fixture.
    missing_since: dict[int, str] = field(default_factory=dict)
    # The fixtures the next tick is expected to track. Their requests start
    # before MongoDB has returned which fixtures are tracked.
    expected_ids: tuple[int, ...] = ()
    faults: dict[str, FaultCount] = field(default_factory=dict)

    def record_fault(self, key: str, message: str, now: datetime, log: logging.Logger | Any) -> None:
        """Count a fault, and log it when it is new or its count reaches a reporting point."""
        fault = self.faults.get(key)
        if fault is None:
            self.faults[key] = FaultCount(1, now, message)
            log.error(message)
            return

        fault.count += 1
        fault.last_message = message
        if fault.count in _REPEAT_LOG_AT or fault.count % _REPEAT_LOG_EVERY == 0:
            log.error(f"{message} (repeated {fault.count} times since {fault.first_at.isoformat()})")

    def clear_faults(self, prefix: str, keep: set[str], log: logging.Logger | Any) -> None:
        """Forget the faults under ``prefix`` not seen this tick, logging how long each one lasted."""
        for key in [key for key in self.faults if key.startswith(prefix) and key not in keep]:
            fault = self.faults.pop(key)
            if fault.count > 1:
                log.info(f"resolved after {fault.count} occurrences since {fault.first_at.isoformat()}: {key}")

    def to_json(self) -> str:
        return json.dumps(
            {
                "paused_until": self.paused_until.isoformat() if self.paused_until else None,
                "missing_ids": list(self.missing_ids),
                "expected_ids": list(self.expected_ids),
                "missing_since": {str(key): value for key, value in self.missing_since.items()},
                "faults": {
                    key: {"count": fault.count, "first_at": fault.first_at.isoformat(), "last_message": fault.last_message}
                    for key, fault in self.faults.items()
                },
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> PollerState:
        """Restore a state; an unreadable cursor gives a fresh state and a warning."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(
                paused_until=datetime.fromisoformat(data["paused_until"]) if data.get("paused_until") else None,
                missing_ids=tuple(int(value) for value in data.get("missing_ids", ())),
                expected_ids=tuple(int(value) for value in data.get("expected_ids", ())),
                missing_since={int(key): str(value) for key, value in data.get("missing_since", {}).items()},
                faults={
                    key: FaultCount(int(value["count"]), datetime.fromisoformat(value["first_at"]), str(value["last_message"]))
                    for key, value in data.get("faults", {}).items()
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            logger.warning("ignoring an unreadable poller state (%s); starting from a fresh state", error)
            return cls()


def resting_missing_ids(state: PollerState, now: datetime, *, after: timedelta, every_minutes: int) -> set[int]:
    """Return the ids missing for longer than ``after`` that are not due this minute.

    Such an id is polled once every ``every_minutes`` minutes, spread by id,
    instead of costing a request every minute for as long as it stays tracked.
    """
    minute = int(now.timestamp() // 60)
    return {
        fixture_id
        for fixture_id, since in state.missing_since.items()
        if now - datetime.fromisoformat(since) > after and (minute + fixture_id) % every_minutes != 0
    }


def next_utc_midnight(now: datetime) -> datetime:
    """Return the next 00:00 UTC after ``now``, when the API resets daily quotas."""
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
