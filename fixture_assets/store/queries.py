"""Read-only queries for materialization metadata and asset checks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from fixture_assets.core.goals import GoalRecord
from fixture_assets.core.models import TeamGoals
from fixture_assets.core.status import StatusClass
from fixture_assets.store.documents import goal_record


@dataclass(frozen=True, slots=True)
class GoalLedger:
    """What the goal check compares for one fixture."""

    fixture_id: int
    collection: StatusClass
    match_date: str
    status: str
    home_id: int
    away_id: int
    goals: TeamGoals
    goal_records: tuple[GoalRecord, ...]

    @property
    def team_scores(self) -> dict[int, int | None]:
        return {self.home_id: self.goals.home, self.away_id: self.goals.away}


def status_counts(database: Database, match_dates: Iterable[str]) -> dict[str, dict[str, int]]:
    """Count the fixtures of each match date by status short code, in one command."""
    dates = sorted(set(match_dates))
    if not dates:
        return {}
    stages = [{"$match": {"match_date": {"$in": dates}}}, {"$project": {"_id": 0, "match_date": 1, "status": "$status.short"}}]
    pipeline: list[dict[str, Any]] = list(stages)
    for collection in (StatusClass.LIVE, StatusClass.COMPLETED):
        pipeline.append({"$unionWith": {"coll": collection.value, "pipeline": stages}})
    pipeline.append({"$group": {"_id": {"match_date": "$match_date", "status": "$status"}, "count": {"$sum": 1}}})

    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in database[StatusClass.STAGED.value].aggregate(pipeline):
        counts[row["_id"]["match_date"]][row["_id"]["status"]] = row["count"]
    return dict(counts)


def goal_ledgers(
    database: Database, collections: Sequence[StatusClass], match_dates: Iterable[str] | None = None
) -> list[GoalLedger]:
    """Load the score and goal records of the fixtures in ``collections``."""
    query: dict[str, Any] = {}
    if match_dates is not None:
        query["match_date"] = {"$in": sorted(set(match_dates))}
    projection = {"_id": 0, "fixture_id": 1, "match_date": 1, "status.short": 1, "teams.home.id": 1, "teams.away.id": 1,
                  "goals": 1, "goal_records": 1}

    ledgers = []
    for collection in collections:
        for document in database[collection.value].find(query, projection):
            goals = document.get("goals") or {}
            ledgers.append(
                GoalLedger(
                    fixture_id=document["fixture_id"],
                    collection=collection,
                    match_date=document.get("match_date", ""),
                    status=(document.get("status") or {}).get("short", ""),
                    home_id=document["teams"]["home"]["id"],
                    away_id=document["teams"]["away"]["id"],
                    goals=TeamGoals(goals.get("home"), goals.get("away")),
                    goal_records=tuple(goal_record(item) for item in document.get("goal_records") or ()),
                )
            )
    return ledgers
