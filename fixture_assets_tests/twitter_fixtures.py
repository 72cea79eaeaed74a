"""Test data for the twitter job: fixture documents, goal records, notifications, fake credentials.

Documents are built by hand in the shape the poll tick stores, so these
tests do not depend on the tick.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from fixture_assets.core.goals import GoalNotification, NotificationKind, notification_key
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.notifications import notification_document

from .x_api_stub import XApiStub

NOW = datetime(2026, 5, 2, 15, 0, tzinfo=UTC)
FIXTURE_ID = 1153127
HOME_ID = 42
AWAY_ID = 49

# Fake credentials: long and distinct, so a test can search any text for them.
CREDENTIALS = {
    "X_API_KEY": "consumer-key-7f3a9c2e5b8d1f4a",
    "X_API_SECRET": "consumer-secret-c41d8e7b2a9f6e3d",
    "X_ACCESS_TOKEN": "1234567890-access-token-9e2b7c4f1a",
    "X_ACCESS_TOKEN_SECRET": "access-token-secret-5d8a3f6c9b2e",
    "X_BEARER_TOKEN": "bearer-token-AAAAAAAAAAAAAAAAAAAAAb3e6f",
}


def goal_record(
    seq: int,
    *,
    team_id: int = HOME_ID,
    elapsed: int = 23,
    extra: int | None = None,
    player: str | None = "Bukayo Saka",
    assist: str | None = None,
    detail: str = "Normal Goal",
    state: str = "confirmed",
    fixture_id: int = FIXTURE_ID,
) -> dict[str, Any]:
    return {
        "key": f"{fixture_id}-{team_id}-{seq}",
        "team_id": team_id,
        "seq": seq,
        "elapsed": elapsed,
        "extra": extra,
        "player_id": 1000 + seq if player else None,
        "player_name": player,
        "assist_id": 2000 + seq if assist else None,
        "assist_name": assist,
        "detail": detail,
        "state": state,
        "absent_polls": 0,
        "alerted": state in ("confirmed", "cancelled"),
        "alert_elapsed": elapsed,
        "alert_extra": extra,
        "followups": 0,
    }


def fixture_document(
    goal_records: list[dict[str, Any]],
    *,
    fixture_id: int = FIXTURE_ID,
    home: str = "Arsenal",
    away: str = "Chelsea",
    home_id: int = HOME_ID,
    away_id: int = AWAY_ID,
    competition: str = "Premier League",
) -> dict[str, Any]:
    confirmed = [record for record in goal_records if record["state"] == "confirmed"]
    home_goals = sum(1 for record in confirmed if record["team_id"] == home_id)
    away_goals = sum(1 for record in confirmed if record["team_id"] == away_id)
    kickoff = NOW - timedelta(minutes=60)
    return {
        "fixture_id": fixture_id,
        "match_date": kickoff.strftime("%Y-%m-%d"),
        "kickoff": kickoff,
        "timestamp": int(kickoff.timestamp()),
        "league": {"id": 39, "name": competition, "country": "England", "season": 2025, "round": "Regular Season - 35"},
        "teams": {
            "home": {"id": home_id, "name": home, "logo": None},
            "away": {"id": away_id, "name": away, "logo": None},
        },
        "status": {"short": "2H", "long": "Second Half", "elapsed": 60, "extra": None},
        "goals": {"home": home_goals, "away": away_goals},
        "score": {
            "halftime": {"home": None, "away": None},
            "fulltime": {"home": None, "away": None},
            "extratime": {"home": None, "away": None},
            "penalty": {"home": None, "away": None},
        },
        "events": [],
        "events_digest": "test",
        "goal_records": goal_records,
        "last_checked": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "revision": 1,
    }


def notification(
    record: dict[str, Any],
    kind: NotificationKind = NotificationKind.GOAL,
    *,
    number: int = 0,
    fixture_id: int = FIXTURE_ID,
    created_at: datetime = NOW,
    state: str = "due",
) -> dict[str, Any]:
    """Build a notification document of ``record`` in the tick's shape."""
    goal = GoalNotification(
        key=notification_key(record["key"], kind, number),
        goal_key=record["key"],
        kind=kind,
        fixture_id=fixture_id,
        team_id=record["team_id"],
        elapsed=record["alert_elapsed"],
        extra=record["alert_extra"],
    )
    document = notification_document(goal, match_date=created_at.strftime("%Y-%m-%d"), now=created_at)
    document["state"] = state
    return document


def store_fixture(database: Database, fixture: dict[str, Any], collection: str = "live_fixtures") -> None:
    database[collection].replace_one({"fixture_id": fixture["fixture_id"]}, fixture, upsert=True)


def store_notification(database: Database, document: dict[str, Any]) -> None:
    database[NOTIFICATIONS].insert_one(dict(document))


def set_goal_state(database: Database, goal_key: str, state: str, collection: str = "live_fixtures") -> None:
    database[collection].update_one(
        {"goal_records.key": goal_key}, {"$set": {"goal_records.$.state": state}}
    )


@pytest.fixture
def x_stub() -> Iterator[XApiStub]:
    """The X API stand-in on 127.0.0.1, checking the fake credentials."""
    with XApiStub(
        api_key=CREDENTIALS["X_API_KEY"],
        api_secret=CREDENTIALS["X_API_SECRET"],
        access_token=CREDENTIALS["X_ACCESS_TOKEN"],
        access_token_secret=CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
        bearer_token=CREDENTIALS["X_BEARER_TOKEN"],
    ) as stub:
        yield stub


@pytest.fixture
def x_environment(monkeypatch: pytest.MonkeyPatch, x_stub: XApiStub) -> XApiStub:
    """Set the fake X credentials and the stub's base URL in the environment; return the stub."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("X_API_BASE_URL", x_stub.base_url)
    return x_stub


@pytest.fixture
def no_x_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every X variable, as on a machine without credentials."""
    for name in [*CREDENTIALS, "X_API_BASE_URL"]:
        monkeypatch.delenv(name, raising=False)
