"""VirtualClock: stopped, free-running at a speed, set and advanced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fixture_assets.replay import VirtualClock

START = datetime(2026, 9, 19, 14, 0, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_stopped_clock_moves_only_when_set() -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=0, monotonic=real)

    real.seconds += 3600

    assert clock.now() == START
    clock.set(START + timedelta(minutes=5))
    assert clock.now() == START + timedelta(minutes=5)
    assert clock.advance(timedelta(seconds=30)) == START + timedelta(minutes=5, seconds=30)


def test_running_clock_follows_speed() -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=60, monotonic=real)

    real.seconds += 2

    assert clock.now() == START + timedelta(minutes=2)


def test_set_speed_keeps_current_time() -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=1, monotonic=real)
    real.seconds += 10

    clock.set_speed(0)
    real.seconds += 10

    assert clock.now() == START + timedelta(seconds=10)
    assert clock.speed == 0


def test_set_converts_to_utc_and_rejects_naive() -> None:
    clock = VirtualClock(START, speed=0)
    plus_two = timezone(timedelta(hours=2))

    clock.set(datetime(2026, 9, 19, 18, 0, tzinfo=plus_two))

    assert clock.now() == datetime(2026, 9, 19, 16, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="no UTC offset"):
        clock.set(datetime(2026, 9, 19, 18, 0))


@pytest.mark.parametrize("speed", [-1, float("inf"), float("nan"), True])
def test_invalid_speed_rejected(speed: float) -> None:
    with pytest.raises(ValueError, match="clock speed"):
        VirtualClock(START, speed=speed)


def test_default_start_is_now() -> None:
    before = datetime.now(UTC)

    clock = VirtualClock(speed=0)

    assert before <= clock.now() <= datetime.now(UTC)
