"""Map fixtures and goal records to MongoDB documents and back."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fixture_assets.core.goals import GoalRecord, GoalState
from fixture_assets.core.models import Fixture, Score, TeamGoals
from fixture_assets.core.observation import FixtureUpdate, StoredFixture
from fixture_assets.core.status import StatusClass

# The fields a tick needs to diff a poll against MongoDB. The stored events
# array is left out: the digest stands for it, and it is the bulk of a document.
STORED_FIXTURE_PROJECTION = {
    "_id": 0,
    "fixture_id": 1,
    "status": 1,
    "kickoff": 1,
    "goals": 1,
    "events_digest": 1,
    "goal_records": 1,
    "revision": 1,
    "last_checked": 1,
    "created_at": 1,
}


def stored_fixture(document: dict[str, Any], collection: StatusClass) -> StoredFixture:
    status = document.get("status") or {}
    goals = document.get("goals") or {}
    return StoredFixture(
        fixture_id=document["fixture_id"],
        collection=collection,
        status=status.get("short", ""),
        elapsed=status.get("elapsed"),
        kickoff=document["kickoff"],
        goals=TeamGoals(goals.get("home"), goals.get("away")),
        events_digest=document.get("events_digest"),
        goal_records=tuple(goal_record(item) for item in document.get("goal_records") or ()),
        revision=document.get("revision", 0),
        last_checked=document.get("last_checked"),
        created_at=document.get("created_at"),
    )


def goal_record(document: dict[str, Any]) -> GoalRecord:
    # Built field by field: a tick converts thousands of records.
    return GoalRecord(
        key=document["key"],
        team_id=document["team_id"],
        seq=document["seq"],
        elapsed=document["elapsed"],
        extra=document.get("extra"),
        player_id=document.get("player_id"),
        player_name=document.get("player_name"),
        assist_id=document.get("assist_id"),
        assist_name=document.get("assist_name"),
        detail=document.get("detail") or "",
        state=GoalState(document["state"]),
        absent_polls=document.get("absent_polls") or 0,
        alerted=bool(document.get("alerted")),
        alert_elapsed=document.get("alert_elapsed"),
        alert_extra=document.get("alert_extra"),
        followups=document.get("followups") or 0,
    )


def goal_record_document(record: GoalRecord) -> dict[str, Any]:
    document = asdict(record)
    document["state"] = record.state.value
    return document


def api_fields(fixture: Fixture) -> dict[str, Any]:
    """The API fields of a fixture document, without events."""
    return {
        "fixture_id": fixture.id,
        "match_date": fixture.match_date,
        "kickoff": fixture.kickoff,
        "timestamp": fixture.timestamp,
        "referee": fixture.referee,
        "venue": fixture.venue,
        "league": asdict(fixture.league),
        "teams": {"home": asdict(fixture.home), "away": asdict(fixture.away)},
        "status": asdict(fixture.status),
        "goals": asdict(fixture.goals),
        "score": _score(fixture.score),
    }


def clock_fields(fixture: Fixture) -> dict[str, Any]:
    """The fields that move every minute of a match even when nothing happens."""
    return {"status": asdict(fixture.status), "score": _score(fixture.score)}


def full_document(update: FixtureUpdate, now: datetime) -> dict[str, Any]:
    """Build the whole document of a fixture that is new to its collection."""
    previous = update.previous
    document = api_fields(update.fixture)
    document.update(
        events=update.fixture.raw_events,
        events_digest=update.events_digest,
        goal_records=[goal_record_document(record) for record in update.goal_records],
        goals_settled=update.goals_settled,
        completed_at=now if update.collection is StatusClass.COMPLETED else None,
        last_checked=now,
        created_at=previous.created_at if previous and previous.created_at else now,
        updated_at=now,
        revision=(previous.revision if previous else 0) + 1,
    )
    return document


def changed_fields(update: FixtureUpdate, now: datetime) -> dict[str, Any]:
    """Build the ``$set`` of a fixture that stays in its collection."""
    assert update.previous is not None
    fields: dict[str, Any] = {"last_checked": now, "revision": update.previous.revision + 1}
    if not update.changed:
        fields.update(clock_fields(update.fixture))
        return fields

    fields.update(api_fields(update.fixture))
    fields["updated_at"] = now
    if update.events_digest != update.previous.events_digest:
        fields["events"] = update.fixture.raw_events
        fields["events_digest"] = update.events_digest
    if update.goal_records != update.previous.goal_records:
        fields["goal_records"] = [goal_record_document(record) for record in update.goal_records]
    fields["goals_settled"] = update.goals_settled
    return fields


def _score(score: Score) -> dict[str, Any]:
    return asdict(score)
