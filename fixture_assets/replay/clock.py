"""The replay server's virtual clock."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class VirtualClock:
    """A UTC clock that runs at ``speed`` virtual seconds per real second from an anchor.

    ``speed=0`` stops the clock, so that it moves only through ``set`` and
    ``advance``. The replay runner uses it that way to serve each poll at its
    recorded time. ``speed=1`` follows real time from the anchor. Thread-safe.
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._speed = _validated_speed(speed)
        self._anchor = _utc(start) if start is not None else datetime.now(UTC)
        self._anchor_real = monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        """Return the current virtual time, timezone-aware in UTC."""
        with self._lock:
            return self._now_locked()

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment``, forwards or backwards. It runs on from there at its speed."""
        moment = _utc(moment)
        with self._lock:
            self._anchor = moment
            self._anchor_real = self._monotonic()

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forwards (or backwards, for a negative delta) and return the new time."""
        with self._lock:
            self._anchor = self._now_locked() + delta
            self._anchor_real = self._monotonic()
            return self._anchor

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, without moving the current time."""
        speed = _validated_speed(speed)
        with self._lock:
            self._anchor = self._now_locked()
            self._anchor_real = self._monotonic()
            self._speed = speed

    def _now_locked(self) -> datetime:
        if self._speed == 0:
            return self._anchor
        elapsed = self._monotonic() - self._anchor_real
        return self._anchor + timedelta(seconds=elapsed * self._speed)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now().isoformat()}, speed={self._speed})"


def _validated_speed(speed: float) -> float:
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not math.isfinite(speed) or speed < 0:
        raise ValueError(
            f"clock speed {speed!r} is invalid: use a finite number of virtual seconds per real second, 0 or more"
        )
    return float(speed)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"virtual time {moment.isoformat()} has no UTC offset: pass a timezone-aware datetime")
    return moment.astimezone(UTC)
