"""One fixture played live from a script: its events are revealed as the match clock passes them.

Kick-off is a real wall-clock time, because the pipeline compares kick-off
times with its own clock, but the match runs on an accelerated clock of
``minute_seconds`` real seconds per match minute. Status, ``goals`` and
``score`` are computed from the events revealed so far.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fixture_assets.core.goals import GOAL_DETAILS, SHOOTOUT_COMMENT
from fixture_assets.replay.envelopes import without_events
from fixture_assets.replay.timeline import STATUS_LONG, MatchMoment, MatchTimeline


_SCORE_PERIODS = ("halftime", "fulltime", "extratime", "penalty")


class FixtureMode(StrEnum):
    LIVE = "live"
    POSTPONED = "postponed"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class ScriptedEvent:
    """An event, when it appears, when it is withdrawn, and later corrections to it.

    Times are clock minutes. ``corrections`` are ``(clock minute, fields)``
    pairs whose fields replace the event's from that minute on.
    """

    event: dict[str, Any]
    appears_at: float
    withdrawn_at: float | None = None
    corrections: tuple[tuple[float, dict[str, Any]], ...] = ()

    def shown_at(self, clock: float) -> dict[str, Any] | None:
        """Return the event as shown at ``clock``, or None if it is not shown then."""
        if clock < self.appears_at:
            return None
        if self.withdrawn_at is not None and clock >= self.withdrawn_at:
            return None
        shown = self.event
        for corrected_at, fields in self.corrections:
            if clock >= corrected_at:
                shown = {**shown, **fields}
        return shown


@dataclass
class ScriptedFixture:
    """A fixture item played on ``timeline`` from ``kickoff``.

    ``item`` provides the fixture, league and teams blocks. ``final_item``,
    when given, is served unchanged (apart from its times) once the match
    is over, so that a recording ends exactly as it was recorded.
    """

    item: dict[str, Any]
    timeline: MatchTimeline
    events: list[ScriptedEvent]
    kickoff: datetime
    minute_seconds: float
    mode: FixtureMode = FixtureMode.LIVE
    final_item: dict[str, Any] | None = None
    _home_id: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.minute_seconds <= 0 or not math.isfinite(self.minute_seconds):
            raise ValueError(f"minute_seconds is {self.minute_seconds}, but it must be a positive number of seconds")
        self._home_id = self.item["teams"]["home"]["id"]

    @property
    def id(self) -> int:
        return int(self.item["fixture"]["id"])

    def clock_minutes(self, now: datetime) -> float:
        """Return the match minutes since kick-off at ``now``, negative before kick-off."""
        if self.mode is FixtureMode.FINISHED:
            return math.inf
        return (now - self.kickoff).total_seconds() / self.minute_seconds

    def moment(self, now: datetime) -> MatchMoment:
        if self.mode is FixtureMode.POSTPONED:
            return MatchMoment("PST", None, None)
        return self.timeline.moment(self.clock_minutes(now))

    def time_at_clock(self, clock: float) -> datetime:
        return self.kickoff + timedelta(seconds=clock * self.minute_seconds)

    def time_at(self, elapsed: int, extra: int | None = None) -> datetime:
        """Return the time in the middle of the match minute that shows ``elapsed``+``extra``."""
        return self.time_at_clock(self.timeline.clock_minute_of(elapsed, extra) + 0.5)

    def time_at_status(self, short: str) -> datetime:
        """Return a time half a match minute after status ``short`` is first shown."""
        return self.time_at_clock(self.timeline.start_of(short) + 0.5)

    def time_at_kick(self, kick: int) -> datetime:
        """Return a time half a match minute after shoot-out kick ``kick`` is shown."""
        return self.time_at_clock(self.timeline.kick_clock_minute(kick) + 0.5)

    def render(self, now: datetime, *, with_events: bool = True) -> dict[str, Any]:
        """Return the fixture item as API-Football would send it at ``now``."""
        if self.mode is FixtureMode.POSTPONED:
            return self._postponed_item(with_events)

        clock = self.clock_minutes(now)
        if clock >= self.timeline.end and self.final_item is not None:
            return self._final_item(with_events)

        moment = self.timeline.moment(clock)
        events = [shown for event in self.events if (shown := event.shown_at(clock)) is not None]
        rendered = self._base_item()
        rendered["fixture"]["status"] = _status_block(moment)
        rendered["fixture"]["periods"] = self._periods(clock)
        rendered["goals"], rendered["score"] = self._goals_and_score(moment, clock, events)
        rendered["teams"] = self._teams_with_winner(rendered["teams"], moment, rendered["goals"], rendered["score"])
        if with_events:
            rendered["events"] = events if moment.short != "NS" else []
        return rendered

    def _base_item(self) -> dict[str, Any]:
        base = {key: value for key, value in self.item.items() if key not in ("events", "statistics", "players")}
        base["fixture"] = {**self.item["fixture"], **self._kickoff_fields()}
        base["teams"] = copy.deepcopy(self.item["teams"])
        return base

    def _kickoff_fields(self) -> dict[str, Any]:
        return {"timezone": "UTC", "date": self.kickoff.isoformat(), "timestamp": int(self.kickoff.timestamp())}

    def _periods(self, clock: float) -> dict[str, int | None]:
        kickoff = int(self.kickoff.timestamp())
        second_start = kickoff + round(self.timeline.second_half_start * self.minute_seconds)
        return {
            "first": kickoff if clock >= 0 else None,
            "second": second_start if clock >= self.timeline.second_half_start else None,
        }

    def _postponed_item(self, with_events: bool) -> dict[str, Any]:
        item = self._base_item()
        item["fixture"]["status"] = _status_block(MatchMoment("PST", None, None))
        item["fixture"]["periods"] = {"first": None, "second": None}
        item["goals"] = {"home": None, "away": None}
        item["score"] = {name: {"home": None, "away": None} for name in _SCORE_PERIODS}
        if with_events:
            item["events"] = []
        return item

    def _final_item(self, with_events: bool) -> dict[str, Any]:
        assert self.final_item is not None
        item = dict(self.final_item) if with_events else without_events(self.final_item)
        item["fixture"] = {**self.final_item["fixture"], **self._kickoff_fields(), "periods": self._periods(math.inf)}
        return item

    def _goals_and_score(
        self, moment: MatchMoment, clock: float, events: list[dict[str, Any]]
    ) -> tuple[dict[str, int | None], dict[str, dict[str, int | None]]]:
        empty = {"home": None, "away": None}
        if moment.short == "NS":
            return dict(empty), {name: dict(empty) for name in _SCORE_PERIODS}

        timeline = self.timeline
        goals = [event for event in events if _is_goal(event)]
        score = {
            "halftime": self._count(event for event in goals if _elapsed(event) <= 45),
            "fulltime": self._count(event for event in goals if _elapsed(event) <= 90)
            if clock >= timeline.regulation_end
            else dict(empty),
            "extratime": self._count(event for event in goals if _elapsed(event) > 90)
            if timeline.extra_time_start is not None and clock >= timeline.extra_time_start
            else dict(empty),
            "penalty": self._count(event for event in events if _is_scored_kick(event))
            if timeline.shootout_start is not None and clock >= timeline.shootout_start
            else dict(empty),
        }
        return self._count(goals), score

    def _count(self, events: Iterable[dict[str, Any]]) -> dict[str, int | None]:
        home = away = 0
        for event in events:
            if (event.get("team") or {}).get("id") == self._home_id:
                home += 1
            else:
                away += 1
        return {"home": home, "away": away}

    @staticmethod
    def _teams_with_winner(
        teams: dict[str, Any], moment: MatchMoment, goals: dict[str, int | None], score: dict[str, Any]
    ) -> dict[str, Any]:
        if moment.short not in ("FT", "AET", "PEN"):
            home_wins = None
        else:
            decider = score["penalty"] if moment.short == "PEN" else goals
            home, away = decider["home"] or 0, decider["away"] or 0
            home_wins = None if home == away else home > away
        teams["home"]["winner"] = home_wins
        teams["away"]["winner"] = None if home_wins is None else not home_wins
        return teams


def _status_block(moment: MatchMoment) -> dict[str, Any]:
    return {"long": STATUS_LONG[moment.short], "short": moment.short, "elapsed": moment.elapsed, "extra": moment.extra}


def _elapsed(event: dict[str, Any]) -> int:
    return (event.get("time") or {}).get("elapsed") or 0


def _is_goal(event: dict[str, Any]) -> bool:
    if event.get("type") != "Goal" or event.get("comments") == SHOOTOUT_COMMENT:
        return False
    return event.get("detail") in GOAL_DETAILS


def _is_scored_kick(event: dict[str, Any]) -> bool:
    if event.get("type") != "Goal" or event.get("comments") != SHOOTOUT_COMMENT:
        return False
    return event.get("detail") == "Penalty"


def utc_minute_ceiling(moment: datetime) -> datetime:
    """Return the first whole UTC minute at or after ``moment``."""
    moment = moment.astimezone(UTC)
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)
