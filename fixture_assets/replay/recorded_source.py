"""Play finished fixtures recorded with their events as live matches.

The file is an ``ids=`` envelope or a bare ``response`` array of fixtures
that finished (FT, AET or PEN) and carry ``events``. Each fixture kicks off a
few real minutes after the server starts, one minute apart in file order.
Its events are revealed as the match clock passes their minute, and its
status and score follow them. Once the match is over, the recorded fixture
is served as it was recorded, apart from its times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fixture_assets.core.goals import SHOOTOUT_COMMENT
from fixture_assets.replay.protocol import ReplayInputError, read_json_file
from fixture_assets.replay.scripted_fixture import ScriptedEvent, ScriptedFixture, utc_minute_ceiling
from fixture_assets.replay.scripted_source import (
    DEFAULT_KICKOFF_DELAY_MINUTES,
    DEFAULT_MINUTE_SECONDS,
    ScriptedDaySource,
)
from fixture_assets.replay.timeline import MatchPlan, MatchTimeline

PLAYABLE_STATUSES = ("FT", "AET", "PEN")

# Stoppage assumed when no recorded event falls in added time.
_DEFAULT_STOPPAGE = {"first_half": 2, "second_half": 4, "extra_time": 1}


class RecordedMatchSource(ScriptedDaySource):
    """Serves recorded finished fixtures, replayed minute by minute."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        name: str = "recording",
        started_at: datetime | None = None,
        minute_seconds: float = DEFAULT_MINUTE_SECONDS,
        kickoff_delay_minutes: float = DEFAULT_KICKOFF_DELAY_MINUTES,
    ) -> None:
        started_at = (started_at or datetime.now(UTC)).astimezone(UTC)
        if not items:
            raise ReplayInputError(f"{name} has no fixtures to replay")
        self.first_kickoff = utc_minute_ceiling(started_at) + timedelta(minutes=kickoff_delay_minutes)
        fixtures = [
            _scripted_fixture(item, self.first_kickoff + timedelta(minutes=index), minute_seconds, name)
            for index, item in enumerate(items)
        ]
        super().__init__(
            fixtures,
            started_at=started_at,
            description=f"recorded {name} ({len(fixtures)} fixtures, {minute_seconds:g} s per match minute)",
        )

    @classmethod
    def from_file(cls, path: Path, **options: Any) -> RecordedMatchSource:
        document = read_json_file(path, "recording")

        items = document.get("response") if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise ReplayInputError(f"the recording {path} must be a fixtures envelope or a response array")
        return cls(items, name=Path(path).name, **options)


def _scripted_fixture(item: Any, kickoff: datetime, minute_seconds: float, name: str) -> ScriptedFixture:
    fixture_id = (item.get("fixture") or {}).get("id") if isinstance(item, dict) else None
    where = f"fixture {fixture_id} in {name}"
    try:
        status = item["fixture"]["status"]["short"]
        events = item["events"]
        has_teams = isinstance(item["teams"]["home"]["id"], int) and isinstance(item["teams"]["away"]["id"], int)
    except (KeyError, TypeError):
        has_teams = False
    if not has_teams:
        raise ReplayInputError(
            f"{where} needs fixture.status, teams and events: record it with GET /fixtures?ids= after full time"
        )
    if status not in PLAYABLE_STATUSES:
        raise ReplayInputError(
            f"{where} has status {status!r}, but only finished fixtures "
            f"({', '.join(PLAYABLE_STATUSES)}) can be replayed"
        )
    if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
        raise ReplayInputError(f"{where} has no events list: record it with GET /fixtures?ids= after full time")

    timeline = MatchTimeline(recorded_plan(item))
    return ScriptedFixture(
        item=item,
        timeline=timeline,
        events=[ScriptedEvent(event, _appears_at(event, timeline)) for event in events],
        kickoff=kickoff,
        minute_seconds=minute_seconds,
        final_item=item,
    )


def recorded_plan(item: dict[str, Any]) -> MatchPlan:
    """Derive the match plan from the recorded status and event minutes."""
    status = item["fixture"]["status"]
    events = item["events"]
    played = [event for event in events if event.get("comments") != SHOOTOUT_COMMENT]
    kicks = [event for event in events if event.get("comments") == SHOOTOUT_COMMENT]
    extra_time = status["short"] in ("AET", "PEN") or any(_minute(event)[0] > 90 for event in played)
    shootout_kicks = max((_minute(event)[1] or 0 for event in kicks), default=0)
    if status["short"] == "PEN":
        shootout_kicks = max(shootout_kicks, len(kicks), 1)

    regulation_extra = status.get("extra") if status["short"] == "FT" else None
    return MatchPlan(
        first_half_stoppage=_stoppage(played, 45, _DEFAULT_STOPPAGE["first_half"]),
        second_half_stoppage=max(_stoppage(played, 90, _DEFAULT_STOPPAGE["second_half"]), regulation_extra or 0),
        extra_time=extra_time,
        extra_time_first_stoppage=_stoppage(played, 105, _DEFAULT_STOPPAGE["extra_time"]),
        extra_time_second_stoppage=_stoppage(played, 120, _DEFAULT_STOPPAGE["extra_time"]),
        shootout_kicks=shootout_kicks,
    )


def _stoppage(events: list[dict[str, Any]], last_minute: int, default: int) -> int:
    recorded = [extra for elapsed, extra in map(_minute, events) if elapsed == last_minute and extra]
    return max([default, *recorded])


def _minute(event: dict[str, Any]) -> tuple[int, int | None]:
    time = event.get("time") or {}
    elapsed = time.get("elapsed")
    extra = time.get("extra")
    return (elapsed if isinstance(elapsed, int) else 0, extra if isinstance(extra, int) else None)


def _appears_at(event: dict[str, Any], timeline: MatchTimeline) -> float:
    elapsed, extra = _minute(event)
    if event.get("comments") == SHOOTOUT_COMMENT and timeline.shootout_start is not None:
        return timeline.kick_clock_minute(extra or 1)
    return timeline.clock_minute_of(elapsed, extra)
