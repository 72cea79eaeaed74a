"""Read the facts of one goal from its stored fixture document.

The score line depends on the post. An alert shows the score right after
its goal: the confirmed goals of each team at or before the goal's minute,
plus the goal itself, so an alert posted late still shows the score of its
moment. A follow-up shows the score now: every confirmed goal, without the
withdrawn goal (cancelled) or with the returned one (reinstated).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fixture_assets.core.goals import GoalState, NotificationKind
from fixture_assets.twitter.messages import GoalFacts


class FactsError(LookupError):
    """The fixture document lacks a field or the goal record a post needs."""


def find_goal_record(fixture: Mapping[str, Any], goal_key: str) -> Mapping[str, Any]:
    """Return the goal record ``goal_key`` of ``fixture``, or raise FactsError."""
    for record in fixture.get("goal_records") or ():
        if record.get("key") == goal_key:
            return record
    raise FactsError(
        f"goal record {goal_key} is missing from fixture {fixture.get('fixture_id')}; "
        "the tick stores a goal's record in the same transaction as its notification, "
        "so check whether the fixture document was replaced or edited by hand"
    )


def goal_facts(
    fixture: Mapping[str, Any],
    goal_key: str,
    kind: NotificationKind,
    *,
    alert_elapsed: int,
    alert_extra: int | None,
) -> GoalFacts:
    """Build the facts of goal ``goal_key`` for a post of ``kind``.

    An alert names the goal's current minute, which includes corrections
    since it was decided. A follow-up names ``alert_elapsed`` and
    ``alert_extra``, the minute of the alert it corrects.
    """
    record = find_goal_record(fixture, goal_key)
    home, away = _team(fixture, "home"), _team(fixture, "away")
    team_id = record.get("team_id")
    if team_id == home["id"]:
        team_name = home["name"]
    elif team_id == away["id"]:
        team_name = away["name"]
    else:
        raise FactsError(
            f"goal record {goal_key} counts for team {team_id}, which is neither the home team "
            f"{home['id']} nor the away team {away['id']} of fixture {fixture.get('fixture_id')}"
        )

    if kind is NotificationKind.GOAL:
        elapsed, extra = int(record.get("elapsed") or 0), record.get("extra")
    else:
        elapsed, extra = alert_elapsed, alert_extra
    home_goals, away_goals = _score_line(fixture, record, kind, home["id"], away["id"])
    league = fixture.get("league") or {}
    return GoalFacts(
        home=home["name"],
        away=away["name"],
        home_goals=home_goals,
        away_goals=away_goals,
        team=team_name,
        elapsed=elapsed,
        extra=extra,
        scorer=record.get("player_name"),
        assist=record.get("assist_name"),
        detail=record.get("detail") or "",
        competition=league.get("name") or "",
        round=league.get("round"),
    )


def _team(fixture: Mapping[str, Any], side: str) -> dict[str, Any]:
    team = ((fixture.get("teams") or {}).get(side)) or {}
    if team.get("id") is None:
        raise FactsError(f"fixture {fixture.get('fixture_id')} has no {side} team id in teams.{side}.id")
    return {"id": team["id"], "name": team.get("name") or side.capitalize()}


def _score_line(
    fixture: Mapping[str, Any],
    goal: Mapping[str, Any],
    kind: NotificationKind,
    home_id: int,
    away_id: int,
) -> tuple[int, int]:
    counted: list[Mapping[str, Any]] = []
    for record in fixture.get("goal_records") or ():
        if record.get("key") == goal.get("key"):
            continue
        if record.get("state") != GoalState.CONFIRMED.value:
            continue
        if kind is NotificationKind.GOAL and _is_after(record, goal):
            continue
        counted.append(record)
    if kind is not NotificationKind.CANCELLED:
        counted.append(goal)

    home_goals = sum(1 for record in counted if record.get("team_id") == home_id)
    away_goals = sum(1 for record in counted if record.get("team_id") == away_id)
    return home_goals, away_goals


def _is_after(record: Mapping[str, Any], goal: Mapping[str, Any]) -> bool:
    """Return True if ``record`` was scored after ``goal`` in match time.

    Within one minute, a team's goals are ordered by their sequence number.
    Goals of the two teams in the same minute count as simultaneous, because
    the API gives no finer time.
    """
    record_minute = (int(record.get("elapsed") or 0), int(record.get("extra") or 0))
    goal_minute = (int(goal.get("elapsed") or 0), int(goal.get("extra") or 0))
    if record_minute != goal_minute or record.get("team_id") != goal.get("team_id"):
        return record_minute > goal_minute
    return int(record.get("seq") or 0) > int(goal.get("seq") or 0)
