"""Typed API-Football v3 fixture objects, as the pipeline reads them.

Only the fields the pipeline uses are typed. ``Fixture.raw_events`` keeps the
events exactly as received so that MongoDB stores what the API sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    name: str
    logo: str | None = None


@dataclass(frozen=True, slots=True)
class League:
    id: int
    name: str
    country: str | None = None
    season: int | None = None
    round: str | None = None


@dataclass(frozen=True, slots=True)
class FixtureStatus:
    """The fixture's ``status`` block. Branch on ``short``: ``long`` texts vary."""

    short: str
    long: str | None = None
    elapsed: int | None = None
    extra: int | None = None


@dataclass(frozen=True, slots=True)
class TeamGoals:
    """A home/away pair of goal counts; ``None`` before kick-off."""

    home: int | None = None
    away: int | None = None


@dataclass(frozen=True, slots=True)
class Score:
    halftime: TeamGoals = TeamGoals()
    fulltime: TeamGoals = TeamGoals()
    extratime: TeamGoals = TeamGoals()
    penalty: TeamGoals = TeamGoals()


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of a fixture's ``events`` array. The API gives events no id."""

    elapsed: int | None
    extra: int | None
    team_id: int | None
    team_name: str | None
    player_id: int | None
    player_name: str | None
    assist_id: int | None
    assist_name: str | None
    type: str
    detail: str | None
    comments: str | None


@dataclass(frozen=True, slots=True)
class Fixture:
    """One fixture as one API answer described it."""

    id: int
    kickoff: datetime  # timezone-aware, UTC
    status: FixtureStatus
    league: League
    home: Team
    away: Team
    goals: TeamGoals
    score: Score
    referee: str | None = None
    venue: str | None = None
    # None when the answer had no ``events`` key (``date=`` answers never do).
    events: tuple[Event, ...] | None = None
    raw_events: list[dict[str, Any]] | None = field(default=None, compare=False)

    @property
    def timestamp(self) -> int:
        return int(self.kickoff.timestamp())

    @property
    def match_date(self) -> str:
        """The kick-off's UTC date, ``YYYY-MM-DD``: the fixture's daily partition."""
        return self.kickoff.strftime("%Y-%m-%d")

    def team_score(self, team_id: int) -> int | None:
        """Return the goals the API counts for ``team_id``, or None if unknown."""
        if team_id == self.home.id:
            return self.goals.home
        if team_id == self.away.id:
            return self.goals.away
        return None
