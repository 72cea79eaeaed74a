"""The demo match day shipped in the package: 14 fictional fixtures that kick off after the server starts.

The day is written in ``data/demo_day.json``. Live fixtures kick off at the
first whole UTC minute after the start, plus ``kickoff_delay_minutes``, plus
their own ``kickoff_offset_minutes`` (real minutes). One fixture is
postponed, and one has finished before the server starts.

Each event has a ``minute`` such as ``"45+2"``. Optional keys script the
API's corrections: ``withdrawn_at`` removes the event (a goal cancelled by
VAR), ``revealed_at`` delays it, and ``corrections`` replace fields such as
``player`` from a later minute on. Shoot-out kicks are ``{"kick": n, "team",
"scored", "player"}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from fixture_assets.replay.protocol import ReplayInputError
from fixture_assets.replay.scripted_fixture import (
    FixtureMode,
    ScriptedEvent,
    ScriptedFixture,
    utc_minute_ceiling,
)
from fixture_assets.replay.scripted_source import (
    DEFAULT_KICKOFF_DELAY_MINUTES,
    DEFAULT_MINUTE_SECONDS,
    ScriptedDaySource,
)
from fixture_assets.replay.timeline import MatchPlan, MatchTimeline, parse_minute

DEMO_DAY_RESOURCE = "data/demo_day.json"


def load_demo_data() -> dict[str, Any]:
    """Read the demo day shipped in the package."""
    text = resources.files("fixture_assets.replay").joinpath(DEMO_DAY_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


class DemoDaySource(ScriptedDaySource):
    """Serves the demo day, with kick-offs a few real minutes after ``started_at``."""

    def __init__(
        self,
        *,
        started_at: datetime | None = None,
        minute_seconds: float = DEFAULT_MINUTE_SECONDS,
        kickoff_delay_minutes: float = DEFAULT_KICKOFF_DELAY_MINUTES,
        fixture_id_offset: int = 0,
        data: dict[str, Any] | None = None,
    ) -> None:
        """``fixture_id_offset`` is added to every fixture id, so that a demo day started
        again on the same MongoDB plays as new fixtures instead of finished ones."""
        started_at = (started_at or datetime.now(UTC)).astimezone(UTC)
        if kickoff_delay_minutes < 0:
            raise ValueError(f"kickoff_delay_minutes is {kickoff_delay_minutes}, but it must be 0 or more")
        data = data if data is not None else load_demo_data()

        self.first_kickoff = utc_minute_ceiling(started_at) + timedelta(minutes=kickoff_delay_minutes)
        builder = _DemoFixtureBuilder(data, started_at, self.first_kickoff, minute_seconds, fixture_id_offset)
        fixtures = [builder.build(spec) for spec in data["fixtures"]]
        super().__init__(
            fixtures,
            started_at=started_at,
            description=f"demo day ({len(fixtures)} fixtures, {minute_seconds:g} s per match minute)",
        )


class _DemoFixtureBuilder:
    def __init__(
        self,
        data: dict[str, Any],
        started_at: datetime,
        first_kickoff: datetime,
        minute_seconds: float,
        fixture_id_offset: int,
    ) -> None:
        self.fixture_id_offset = fixture_id_offset
        self.leagues = data["leagues"]
        self.season = started_at.year
        self.day_start = started_at.replace(hour=0, minute=0, second=0, microsecond=0)
        self.first_kickoff = first_kickoff
        self.minute_seconds = minute_seconds

    def build(self, spec: dict[str, Any]) -> ScriptedFixture:
        where = f"demo fixture {spec.get('id')}"
        try:
            mode = FixtureMode(spec.get("mode", "live"))
            timeline = MatchTimeline(MatchPlan(**spec.get("plan", {})))
            item = self._item(spec)
            teams = item["teams"]
            events = [
                _scripted_event(event_spec, teams, timeline, f"{where} events[{index}]")
                for index, event_spec in enumerate(spec["events"])
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise ReplayInputError(f"{where} in {DEMO_DAY_RESOURCE} is invalid: {error}") from None

        return ScriptedFixture(
            item=item,
            timeline=timeline,
            events=events,
            kickoff=self._kickoff(spec, mode),
            minute_seconds=self.minute_seconds,
            mode=mode,
        )

    def _kickoff(self, spec: dict[str, Any], mode: FixtureMode) -> datetime:
        # NOTE: a server started in the last minutes before 00:00 UTC puts the
        # later kick-offs on the next day, so date= for the start day misses them.
        kickoff = self.first_kickoff + timedelta(minutes=spec["kickoff_offset_minutes"])
        if mode is FixtureMode.FINISHED:
            # Keep the finished fixture on the server's UTC day, so that date= finds it.
            kickoff = max(kickoff, self.day_start)
        return kickoff

    def _item(self, spec: dict[str, Any]) -> dict[str, Any]:
        league = self.leagues[spec["league"]]
        return {
            "fixture": {
                "id": spec["id"] + self.fixture_id_offset,
                "referee": spec.get("referee"),
                "timezone": "UTC",
                "venue": spec["venue"],
            },
            "league": {**league, "logo": None, "flag": None, "season": self.season},
            "teams": {
                side: {"id": spec[side]["id"], "name": spec[side]["name"], "logo": None, "winner": None}
                for side in ("home", "away")
            },
        }


def _scripted_event(
    spec: dict[str, Any], teams: dict[str, Any], timeline: MatchTimeline, where: str
) -> ScriptedEvent:
    team = teams[spec["team"]]
    if "kick" in spec:
        return _shootout_kick(spec, team, timeline, where)

    elapsed, extra = parse_minute(spec["minute"])
    if not timeline.shows(elapsed, extra):
        raise ValueError(f"{where}: minute {spec['minute']} is outside the match plan's periods and stoppage time")
    event = _event_json(
        elapsed, extra, team, spec["type"], spec.get("detail"), spec.get("comments"), spec["player"], spec.get("assist")
    )
    appears_at = timeline.clock_minute_of(*parse_minute(spec.get("revealed_at", spec["minute"])))
    withdrawn_at = timeline.clock_minute_of(*parse_minute(spec["withdrawn_at"])) if "withdrawn_at" in spec else None
    corrections = tuple(
        (timeline.clock_minute_of(*parse_minute(correction["at"])), _corrected_fields(correction))
        for correction in spec.get("corrections", [])
    )
    return ScriptedEvent(event, appears_at, withdrawn_at, corrections)


def _shootout_kick(spec: dict[str, Any], team: dict[str, Any], timeline: MatchTimeline, where: str) -> ScriptedEvent:
    kick = spec["kick"]
    if not isinstance(kick, int) or not 1 <= kick <= timeline.plan.shootout_kicks:
        raise ValueError(f"{where}: kick {kick!r} is outside the plan's {timeline.plan.shootout_kicks} shoot-out kicks")
    detail = "Penalty" if spec["scored"] else "Missed Penalty"
    # The API lists a shoot-out kick at minute 120 with the kick number as ``extra``.
    event = _event_json(120, kick, team, "Goal", detail, "Penalty Shootout", spec["player"], None)
    return ScriptedEvent(event, timeline.kick_clock_minute(kick))


def _event_json(
    elapsed: int,
    extra: int | None,
    team: dict[str, Any],
    event_type: str,
    detail: str | None,
    comments: str | None,
    player: list[Any],
    assist: list[Any] | None,
) -> dict[str, Any]:
    return {
        "time": {"elapsed": elapsed, "extra": extra},
        "team": {"id": team["id"], "name": team["name"], "logo": team["logo"]},
        "player": _person(player),
        "assist": _person(assist),
        "type": event_type,
        "detail": detail,
        "comments": comments,
    }


def _corrected_fields(correction: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("player", "assist"):
        if name in correction:
            fields[name] = _person(correction[name])
    for name in ("detail", "comments"):
        if name in correction:
            fields[name] = correction[name]
    return fields


def _person(pair: list[Any] | None) -> dict[str, Any]:
    if pair is None:
        return {"id": None, "name": None}
    person_id, name = pair
    return {"id": person_id, "name": name}
