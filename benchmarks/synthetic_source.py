"""A synthetic match day for the poll tick benchmark, deterministic from a seed.

``SyntheticLiveSource`` serves N fixtures that are all in play when the
benchmark starts. Each has 10 to 14 events (12 on average) before the start,
and from then on a few fixtures score in every virtual minute, with a score
that counts the new goal. Matches run at real pace (one match minute per
virtual minute), so between two ticks a minute apart the status of every
fixture changes, except at half-time, as it does in a real tick.

By default the items carry the fields the pipeline reads and ``events``,
about 4.5 KB per ``ids=`` item. Real ``ids=`` items also carry ``lineups``,
``statistics`` and ``players``, about 35 KB more. With ``match_details=True``
the source adds synthetic blocks of that size.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from benchmarks.match_details import MatchDetailsPool
from fixture_assets.replay.protocol import ApiResponse
from fixture_assets.replay.scripted_fixture import ScriptedEvent, ScriptedFixture
from fixture_assets.replay.scripted_source import ScriptedDaySource
from fixture_assets.replay.timeline import MatchPlan, MatchTimeline

FIRST_FIXTURE_ID = 5_000_001
FIRST_TEAM_ID = 80_001
LEAGUE_COUNT = 40

# Kick-offs lie this many minutes before the start, so about a fifth of the
# fixtures are at half-time. With the default match plan (2H ends at clock
# minute 111), every fixture is still in play 15 virtual minutes after the start.
KICKOFF_MINUTES_BEFORE = (20, 95)
EVENTS_PER_FIXTURE = (10, 14)

# About 2.7 goals per match of 90 minutes.
GOALS_PER_FIXTURE_MINUTE = 0.03
MIN_GOALS_PER_MINUTE = 3

MATCH_MINUTE_SECONDS = 60.0

# Share of each event type among the events before the start.
_EVENT_WEIGHTS = (("subst", 0.45), ("Card", 0.30), ("Goal", 0.20), ("Var", 0.05))
_GOAL_DETAILS = (("Normal Goal", 0.80), ("Penalty", 0.12), ("Own Goal", 0.08))


def default_goals_per_minute(fixture_count: int) -> int:
    """Return the new goals per virtual minute for ``fixture_count`` fixtures in play, one per fixture at most."""
    return min(fixture_count, max(MIN_GOALS_PER_MINUTE, math.ceil(fixture_count * GOALS_PER_FIXTURE_MINUTE)))


class SyntheticLiveSource(ScriptedDaySource):
    """Serves ``fixture_count`` synthetic fixtures in play from ``started_at``.

    New goals appear at ``started_at`` plus 1, 2, ... ``schedule_minutes``
    virtual minutes, ``goals_per_minute`` of them each minute, in distinct
    fixtures that are not at half-time. ``new_goals(minute)`` lists them.
    """

    def __init__(
        self,
        fixture_count: int,
        *,
        started_at: datetime,
        seed: int = 0,
        goals_per_minute: int | None = None,
        schedule_minutes: int = 15,
        match_details: bool = False,
    ) -> None:
        if fixture_count < 1:
            raise ValueError(f"fixture_count is {fixture_count}, but the source needs at least 1 fixture")
        timeline = MatchTimeline(MatchPlan())
        # Every fixture is still in play for this many virtual minutes after the start.
        in_play_minutes = math.floor(timeline.regulation_end) - KICKOFF_MINUTES_BEFORE[1] - 1
        if not 1 <= schedule_minutes <= in_play_minutes:
            raise ValueError(
                f"schedule_minutes is {schedule_minutes}, but it must be between 1 and {in_play_minutes}, "
                "while every fixture is still in play"
            )
        self.seed = seed
        self.goals_per_minute = default_goals_per_minute(fixture_count) if goals_per_minute is None else goals_per_minute
        if self.goals_per_minute > fixture_count:
            raise ValueError(f"goals_per_minute is {self.goals_per_minute}, more than the {fixture_count} fixtures")

        fixtures = [_build_fixture(index, seed, started_at, timeline) for index in range(fixture_count)]
        self._new_goals = _schedule_goals(fixtures, seed, started_at, self.goals_per_minute, schedule_minutes)
        self._details: dict[int, dict[str, Any]] = {}
        if match_details:
            pool = MatchDetailsPool(seed)
            self._details = {
                fixture.id: pool.blocks(index, fixture.item["teams"]["home"], fixture.item["teams"]["away"])
                for index, fixture in enumerate(fixtures)
            }
        super().__init__(
            fixtures,
            started_at=started_at,
            description=(
                f"synthetic day ({fixture_count} fixtures in play, seed {seed}, "
                f"{self.goals_per_minute} new goals per virtual minute"
                f"{', with lineups, statistics and players' if match_details else ''})"
            ),
        )

    def fixtures_by_ids(self, ids: list[int], params: Mapping[str, str], now: datetime) -> ApiResponse:
        response = super().fixtures_by_ids(ids, params, now)
        if self._details:
            for item in response.body["response"]:
                item.update(self._details[item["fixture"]["id"]])
        return response

    def new_goals(self, minute: int) -> list[int]:
        """Return the ids of the fixtures that score at ``started_at`` plus ``minute`` virtual minutes."""
        return list(self._new_goals.get(minute, []))


def _build_fixture(index: int, seed: int, started_at: datetime, timeline: MatchTimeline) -> ScriptedFixture:
    rng = random.Random(seed * 1_000_003 + index)
    fixture_id = FIRST_FIXTURE_ID + index
    kickoff = started_at - timedelta(minutes=rng.randint(*KICKOFF_MINUTES_BEFORE))
    league_id = 9_001 + rng.randrange(LEAGUE_COUNT)
    home = _team(FIRST_TEAM_ID + 2 * index)
    away = _team(FIRST_TEAM_ID + 2 * index + 1)
    item = {
        "fixture": {
            "id": fixture_id,
            "referee": f"Referee {rng.randrange(500)}",
            "timezone": "UTC",
            "venue": {"id": 20_000 + index, "name": f"Stadium {index}", "city": f"City {index % 97}"},
        },
        "league": {
            "id": league_id,
            "name": f"Synthetic League {league_id}",
            "country": f"Country {league_id % 25}",
            "logo": f"https://media.api-sports.io/football/leagues/{league_id}.png",
            "flag": None,
            "season": started_at.year,
            "round": f"Regular Season - {rng.randint(1, 38)}",
        },
        "teams": {"home": home, "away": away},
    }

    clock_at_start = (started_at - kickoff).total_seconds() / MATCH_MINUTE_SECONDS
    elapsed_at_start = timeline.moment(clock_at_start).elapsed or 1
    count = rng.randint(*EVENTS_PER_FIXTURE)
    minutes = sorted(rng.randint(1, elapsed_at_start) for _ in range(count))
    events = [ScriptedEvent(random_event(rng, minute, home, away), timeline.clock_minute_of(minute, None)) for minute in minutes]
    return ScriptedFixture(item=item, timeline=timeline, events=events, kickoff=kickoff, minute_seconds=MATCH_MINUTE_SECONDS)


def _schedule_goals(
    fixtures: list[ScriptedFixture], seed: int, started_at: datetime, goals_per_minute: int, schedule_minutes: int
) -> dict[int, list[int]]:
    """Add the new goal events to the fixtures and return the scoring fixture ids by minute."""
    schedule: dict[int, list[int]] = {}
    for minute in range(1, schedule_minutes + 1):
        rng = random.Random(seed * 7_919 + minute)
        at = started_at + timedelta(minutes=minute)
        in_play = [fixture for fixture in fixtures if fixture.moment(at).short in ("1H", "2H")]
        scorers = rng.sample(in_play, min(goals_per_minute, len(in_play)))
        for fixture in scorers:
            moment = fixture.moment(at)
            teams = fixture.item["teams"]
            scoring, other = (teams["home"], teams["away"]) if rng.random() < 0.5 else (teams["away"], teams["home"])
            event = goal_event(rng, moment.elapsed or 1, moment.extra, scoring, other, _weighted(rng, _GOAL_DETAILS))
            fixture.events.append(ScriptedEvent(event, fixture.clock_minutes(at)))
        schedule[minute] = sorted(fixture.id for fixture in scorers)
    return schedule


def _team(team_id: int) -> dict[str, Any]:
    return {
        "id": team_id,
        "name": f"Team {team_id}",
        "logo": f"https://media.api-sports.io/football/teams/{team_id}.png",
        "winner": None,
    }


def random_event(
    rng: random.Random, elapsed: int, home: dict[str, Any], away: dict[str, Any], *, goals: bool = True
) -> dict[str, Any]:
    """Build a random substitution, card, VAR or (unless ``goals`` is False) goal event for either team."""
    team, other = (home, away) if rng.random() < 0.5 else (away, home)
    kinds = _EVENT_WEIGHTS if goals else tuple(choice for choice in _EVENT_WEIGHTS if choice[0] != "Goal")
    kind = _weighted(rng, kinds)
    if kind == "Goal":
        return goal_event(rng, elapsed, None, team, other, _weighted(rng, _GOAL_DETAILS))
    if kind == "Card":
        detail = "Yellow Card" if rng.random() < 0.9 else "Red Card"
        return _event(elapsed, None, team, _player(rng, team), _person(None, None), "Card", detail, "Foul")
    if kind == "subst":
        return _event(elapsed, None, team, _player(rng, team), _player(rng, team), "subst", f"Substitution {rng.randint(1, 5)}", None)
    return _event(elapsed, None, team, _player(rng, team), _person(None, None), "Var", "Goal Disallowed - offside", None)


def goal_event(
    rng: random.Random, elapsed: int, extra: int | None, team: dict[str, Any], other: dict[str, Any], detail: str
) -> dict[str, Any]:
    """Build a goal event for ``team``. An own goal's scorer plays for ``other``, as in API-Football."""
    scorer = _player(rng, other) if detail == "Own Goal" else _player(rng, team)
    assist = _player(rng, team) if detail == "Normal Goal" and rng.random() < 0.7 else _person(None, None)
    return _event(elapsed, extra, team, scorer, assist, "Goal", detail, None)


def _event(
    elapsed: int,
    extra: int | None,
    team: dict[str, Any],
    player: dict[str, Any],
    assist: dict[str, Any],
    event_type: str,
    detail: str,
    comments: str | None,
) -> dict[str, Any]:
    return {
        "time": {"elapsed": elapsed, "extra": extra},
        "team": {"id": team["id"], "name": team["name"], "logo": team["logo"]},
        "player": player,
        "assist": assist,
        "type": event_type,
        "detail": detail,
        "comments": comments,
    }


def _player(rng: random.Random, team: dict[str, Any]) -> dict[str, Any]:
    number = rng.randint(1, 30)
    return _person(team["id"] * 100 + number, f"Player {number} of {team['name']}")


def _person(person_id: int | None, name: str | None) -> dict[str, Any]:
    return {"id": person_id, "name": name}


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(names, weights)[0]
