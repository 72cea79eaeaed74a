"""Backfill of a past match date with the Dagster CLI, against the recorded day of 1,183 fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest

from fixture_assets.core.status import StatusClass, status_class
from fixture_assets.replay import ReplayServer, ScenarioSource, VirtualClock
from fixture_assets.replay.envelopes import envelope
from fixture_assets.store.database import NOTIFICATIONS

from .conftest import REPO_ROOT, SAMPLES_DIR

MATCH_DATE = "2024-05-25"
ANSWERED_AT = datetime(2024, 5, 25, 23, 30, tzinfo=UTC)


def goal(team_id: int, minute: int) -> dict:
    return {"time": {"elapsed": minute, "extra": None}, "team": {"id": team_id, "name": "Team"},
            "player": {"id": 9, "name": "A. Scorer"}, "assist": {"id": None, "name": None},
            "type": "Goal", "detail": "Normal Goal", "comments": None}


def finished(item: dict) -> dict:
    """Return the fixture as the API returns it after the day: every match finished, with its goal events."""
    status = item["fixture"]["status"]["short"]
    if status in ("PST", "TBD"):
        return {**item, "events": []}
    if status == "NS":
        fixture = {**item["fixture"], "status": {"long": "Match Finished", "short": "FT", "elapsed": 90, "extra": None}}
        return {**item, "fixture": fixture, "goals": {"home": 0, "away": 0}, "events": []}
    home, away = item["teams"]["home"]["id"], item["teams"]["away"]["id"]
    goals = [goal(home, 10 + n) for n in range(item["goals"]["home"] or 0)]
    goals += [goal(away, 50 + n) for n in range(item["goals"]["away"] or 0)]
    if status_class(status) is StatusClass.LIVE:
        fixture = {**item["fixture"], "status": {"long": "Match Finished", "short": "FT", "elapsed": 90, "extra": None}}
        return {**item, "fixture": fixture, "events": goals}
    return {**item, "events": goals}


@pytest.fixture
def recorded_day(shared_dir) -> tuple[ScenarioSource, list[dict]]:
    """Serve the recorded date= response, and ids= responses of the same fixtures after the day."""
    day = json.loads((SAMPLES_DIR / "date-2024-05-25-1183-fixtures.json").read_text())
    after = [finished(item) for item in day["response"]]
    poll = {"at": ANSWERED_AT.isoformat(), "status": 200, "body": envelope("fixtures", {}, after)}
    return ScenarioSource({"name": "recorded-day", "discovery": day, "polls": [poll]}), day["response"]


def test_cli_backfill_of_past_date(recorded_day, mongo_uri, mongo_client, tmp_path):
    source, recorded = recorded_day
    database_name = f"backfill_{uuid.uuid4().hex[:10]}"
    with ReplayServer(source, clock=VirtualClock(ANSWERED_AT, speed=0)) as server:
        (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        environment = {
            **os.environ,
            "DAGSTER_HOME": str(tmp_path),
            "MONGO_URI": mongo_uri,
            "MONGO_DATABASE": database_name,
            "API_FOOTBALL_BASE_URL": server.url,
        }
        environment.pop("API_FOOTBALL_KEY", None)
        completed = subprocess.run(
            [_dagster(), "asset", "materialize", "-m", "fixture_assets.definitions",
             "--select", "staged_fixtures,live_fixtures,completed_fixtures", "--partition", MATCH_DATE],
            cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=600,
        )
        requests = list(server.requests)

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    database = mongo_client[database_name]
    still_staged = sum(1 for item in recorded if item["fixture"]["status"]["short"] in ("PST", "TBD"))
    assert database.completed_fixtures.count_documents({}) == len(recorded) - still_staged
    assert database.staged_fixtures.count_documents({}) == still_staged
    assert database.live_fixtures.count_documents({}) == 0

    ids_requests = [request for request in requests if "ids" in request.params]
    date_requests = [request for request in requests if "date" in request.params]
    assert len(date_requests) == 1
    assert all(len(request.ids) <= 20 for request in ids_requests)
    assert all(request.status == 200 for request in requests)

    # Every goal is recorded, and a past date posts none of them.
    started = [item for item in recorded if status_class(item["fixture"]["status"]["short"]) is not StatusClass.STAGED]
    expected_goals = sum((item["goals"]["home"] or 0) + (item["goals"]["away"] or 0) for item in started)
    assert expected_goals > 0
    assert database[NOTIFICATIONS].count_documents({}) == expected_goals
    assert database[NOTIFICATIONS].count_documents({"state": {"$ne": "skipped"}}) == 0
    mongo_client.drop_database(database_name)


def _dagster() -> str:
    return os.path.join(os.path.dirname(sys.executable), "dagster")
