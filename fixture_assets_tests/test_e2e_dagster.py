"""End to end on a Dagster test instance: two recorded ties played live through the real sensors.

The sensors run as the daemon runs them (Dagster's sensor iteration over a
code server), so run keys, cursors and run launches behave as in production.
Dagster's clock is moved 61 s per step so that every sensor is due; the
replay server's clock moves one match minute per step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, instance_for_test

from fixture_assets.replay import RecordedMatchSource, ReplayServer, VirtualClock
from fixture_assets.store.database import NOTIFICATIONS

from .conftest import SAMPLES_DIR
from .fault_daemon import INSTANCE_OVERRIDES, daemon_sensors

RECORDING = SAMPLES_DIR / "ids-2024-03-13-cl-two-penalty-shootouts.json"
DEFINITIONS_MODULE = "fixture_assets.definitions"
# The regular goals of the two ties: (fixture, scoring team, minute).
REAL_GOALS = {(1149523, 42, 41), (1149519, 505, 33), (1149519, 530, 35), (1149519, 530, 87)}


@pytest.fixture
def recorded_ties(shared_dir, mongo_uri, monkeypatch) -> Iterator[tuple[RecordedMatchSource, VirtualClock, str]]:
    source = RecordedMatchSource.from_file(Path(RECORDING), kickoff_delay_minutes=0)
    clock = VirtualClock(source.initial_time(), speed=0)
    database = f"e2e_{uuid.uuid4().hex[:10]}"
    with ReplayServer(source, clock=clock) as server:
        # The code server that the sensor iteration starts inherits these.
        monkeypatch.setenv("MONGO_URI", mongo_uri)
        monkeypatch.setenv("MONGO_DATABASE", database)
        monkeypatch.setenv("API_FOOTBALL_BASE_URL", server.url)
        for variable in ("API_FOOTBALL_KEY", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"):
            monkeypatch.delenv(variable, raising=False)
        yield source, clock, database


def play_match_day(source: RecordedMatchSource, clock: VirtualClock, instance: DagsterInstance) -> None:
    fixtures = source.fixtures()
    match_time = min(fixture.kickoff for fixture in fixtures) - timedelta(seconds=30)
    end = max(fixture.time_at_status("PEN") for fixture in fixtures) + timedelta(minutes=1)
    dagster_now = datetime.now(UTC)

    with daemon_sensors(instance, DEFINITIONS_MODULE) as iterate:
        while match_time <= end:
            clock.set(match_time)
            iterate(dagster_now)
            dagster_now += timedelta(seconds=61)
            match_time += timedelta(seconds=source.fixtures()[0].minute_seconds)
        # One more round, so that notifications decided by the last poll are launched.
        iterate(dagster_now)


@pytest.mark.timeout(900)
def test_recorded_ties_alert_each_goal_once(recorded_ties, mongo_client):
    source, clock, database_name = recorded_ties
    database = mongo_client[database_name]

    with instance_for_test(overrides=INSTANCE_OVERRIDES) as instance:
        play_match_day(source, clock, instance)
        runs = instance.get_runs()
        twitter_runs = [run for run in runs if run.job_name == "twitter_job"]
        notifications = {run.run_id: database[NOTIFICATIONS].find_one({"key": run.tags["dagster/run_key"]}) for run in twitter_runs}

        assert len(twitter_runs) == len(REAL_GOALS)
        assert {(n["fixture_id"], n["team_id"], n["elapsed"]) for n in notifications.values()} == REAL_GOALS
        assert all(run.status is DagsterRunStatus.SUCCESS for run in runs)
        for run in twitter_runs:
            notification = notifications[run.run_id]
            assert notification["kind"] == "goal"
            assert notification["state"] == "dry_run"
            assert run.tags["fixture_assets/fixture_id"] == str(notification["fixture_id"])
            assert run.tags["fixture_assets/goal_key"] == notification["goal_key"]
            assert run.tags["fixture_assets/minute"] == f"{notification['elapsed']}'"
            assert run.tags["fixture_assets/scorer"] not in ("", "unknown")
            assert " v " in run.tags["fixture_assets/teams"]

    completed = {document["fixture_id"]: document["status"]["short"] for document in database.completed_fixtures.find()}
    assert completed == {1149523: "PEN", 1149519: "PEN"}
    assert database.live_fixtures.count_documents({}) == 0
    assert database.staged_fixtures.count_documents({}) == 0

    # A brand-new Dagster instance over the same MongoDB launches nothing.
    with instance_for_test(overrides=INSTANCE_OVERRIDES) as second:
        with daemon_sensors(second, DEFINITIONS_MODULE) as iterate:
            now = datetime.now(UTC)
            for step in range(3):
                iterate(now + timedelta(seconds=61 * step))
        assert second.get_runs() == []
    assert database[NOTIFICATIONS].count_documents({}) == len(REAL_GOALS)
