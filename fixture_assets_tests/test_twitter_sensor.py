"""goal_notification_sensor: run requests for due notifications and recovery of lost requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from dagster import (
    DagsterInstance,
    Definitions,
    RunRequest,
    SkipReason,
    build_sensor_context,
    instance_for_test,
    validate_run_config,
)
from pymongo.database import Database

from fixture_assets.core.goals import NotificationKind
from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import XResource, build_goal_notification_sensor, twitter_job
from fixture_assets.defs.twitter.sensors import RUN_KEY_TAG
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.embedded_server import free_port

from .twitter_fixtures import (
    AWAY_ID,
    CREDENTIALS,
    NOW,
    fixture_document,
    goal_record,
    notification,
    store_fixture,
    store_notification,
)

RECOVERY_DELAY = 300


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as test_instance:
        yield test_instance


def evaluate(
    database: Database, mongo_uri: str, instance: DagsterInstance, now: datetime = NOW, batch_size: int = 50
) -> list[RunRequest] | SkipReason:
    sensor = build_goal_notification_sensor(
        recovery_delay_seconds=RECOVERY_DELAY, batch_size=batch_size, clock=lambda: now
    )
    context = build_sensor_context(
        instance=instance, resources={"mongo": MongoResource(uri=mongo_uri, database=database.name)}
    )
    return sensor(context)


def stored(database: Database, key: str) -> dict[str, Any]:
    document = database[NOTIFICATIONS].find_one({"key": key}, {"_id": 0})
    assert document is not None
    return document


@pytest.fixture
def goals(mongo_db: Database) -> list[dict[str, Any]]:
    records = [
        goal_record(1, elapsed=45, extra=2, player="Bukayo Saka"),
        goal_record(1, team_id=AWAY_ID, elapsed=50, player=None, state="cancelled"),
    ]
    store_fixture(mongo_db, fixture_document(records))
    store_notification(mongo_db, notification(records[0]))
    store_notification(mongo_db, notification(records[1], created_at=NOW + timedelta(seconds=1)))
    store_notification(
        mongo_db,
        notification(records[1], NotificationKind.CANCELLED, number=1, created_at=NOW + timedelta(seconds=2)),
    )
    return records


def test_due_notifications_requested(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goals: list[dict[str, Any]]
) -> None:
    result = evaluate(mongo_db, mongo_uri, instance)

    assert isinstance(result, list)
    keys = [request.run_key for request in result]
    assert keys == ["1153127-42-1", "1153127-49-1", "1153127-49-1-cancelled-1"]
    first = result[0]
    assert first.run_config == {"ops": {"deliver_goal_notification": {"config": {"notification_key": "1153127-42-1"}}}}
    assert first.tags == {
        "fixture_assets/notification": "1153127-42-1",
        "fixture_assets/fixture_id": "1153127",
        "fixture_assets/kind": "goal",
        "fixture_assets/goal_key": "1153127-42-1",
        "fixture_assets/minute": "45+2'",
        "fixture_assets/teams": "Arsenal v Chelsea",
        "fixture_assets/scorer": "Bukayo Saka",
    }
    assert result[1].tags["fixture_assets/scorer"] == "unknown"
    assert result[2].tags["fixture_assets/kind"] == "cancelled"
    for key in keys:
        document = stored(mongo_db, key)
        assert document["state"] == "requested"
        assert document["requested_at"] == NOW
        assert document["request_count"] == 1


def test_run_requests_valid_for_job(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goals: list[dict[str, Any]]
) -> None:
    result = evaluate(mongo_db, mongo_uri, instance)

    definitions = Definitions(
        jobs=[twitter_job],
        resources={"mongo": MongoResource(uri=mongo_uri, database=mongo_db.name), "x": XResource()},
    )
    job = definitions.resolve_job_def("twitter_job")

    assert isinstance(result, list)
    for request in result:
        validated = validate_run_config(job, request.run_config)
        assert validated["ops"]["deliver_goal_notification"]["config"]["notification_key"] == request.run_key


def test_no_credentials_in_run_requests(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goals: list[dict[str, Any]]
) -> None:
    result = evaluate(mongo_db, mongo_uri, instance)

    assert isinstance(result, list)
    text = repr([(request.run_config, request.tags) for request in result])
    for secret in CREDENTIALS.values():
        assert secret not in text


def test_nothing_due_skips_with_reason(mongo_db: Database, mongo_uri: str, instance: DagsterInstance) -> None:
    result = evaluate(mongo_db, mongo_uri, instance)

    assert isinstance(result, SkipReason)
    assert "no goal notification is due" in (result.skip_message or "")
    assert "300 s" in (result.skip_message or "")


def test_second_tick_requests_nothing_new(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goals: list[dict[str, Any]]
) -> None:
    evaluate(mongo_db, mongo_uri, instance)

    result = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(seconds=15))

    assert isinstance(result, SkipReason)


def test_lost_request_recovered_after_delay(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goals: list[dict[str, Any]]
) -> None:
    evaluate(mongo_db, mongo_uri, instance)

    early = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(seconds=RECOVERY_DELAY - 1))
    late = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(seconds=RECOVERY_DELAY + 1))

    assert isinstance(early, SkipReason)
    assert isinstance(late, list)
    assert [request.run_key for request in late] == ["1153127-42-1", "1153127-49-1", "1153127-49-1-cancelled-1"]
    assert late[0].tags["fixture_assets/teams"] == "Arsenal v Chelsea"
    document = stored(mongo_db, "1153127-42-1")
    assert document["request_count"] == 2
    assert document["requested_at"] == NOW + timedelta(seconds=RECOVERY_DELAY + 1)


def test_request_with_run_not_recovered(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goals: list[dict[str, Any]]
) -> None:
    evaluate(mongo_db, mongo_uri, instance)
    for key in ("1153127-42-1", "1153127-49-1"):
        instance.create_run_for_job(
            job_def=twitter_job,
            run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": key}}}},
            tags={RUN_KEY_TAG: key},
        )

    result = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(seconds=RECOVERY_DELAY + 1))

    assert isinstance(result, list)
    assert [request.run_key for request in result] == ["1153127-49-1-cancelled-1"]
    assert stored(mongo_db, "1153127-42-1")["request_count"] == 1


def _failed_run(instance: DagsterInstance, key: str, run_key: str) -> None:
    run = instance.create_run_for_job(
        job_def=twitter_job,
        run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": key}}}},
        tags={RUN_KEY_TAG: run_key, "fixture_assets/notification": key},
    )
    instance.report_run_failed(run)


def test_failed_runs_requested_again(mongo_db: Database, mongo_uri: str, instance: DagsterInstance) -> None:
    record = goal_record(1)
    store_fixture(mongo_db, fixture_document([record]))
    document = notification(record, state="requested")
    document["requested_at"] = NOW
    document["request_count"] = 1
    store_notification(mongo_db, document)
    _failed_run(instance, record["key"], record["key"])

    result = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(seconds=RECOVERY_DELAY + 1))

    assert isinstance(result, list)
    assert [request.run_key for request in result] == [f"{record['key']}-request-2"]
    assert result[0].tags["fixture_assets/notification"] == record["key"]
    assert stored(mongo_db, record["key"])["request_count"] == 2


def test_failed_runs_stop_at_max_requests(mongo_db: Database, mongo_uri: str, instance: DagsterInstance) -> None:
    record = goal_record(1)
    store_fixture(mongo_db, fixture_document([record]))
    document = notification(record, state="requested")
    document["requested_at"] = NOW
    document["request_count"] = 12
    store_notification(mongo_db, document)
    _failed_run(instance, record["key"], f"{record['key']}-request-12")

    result = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(seconds=RECOVERY_DELAY + 1))

    assert isinstance(result, SkipReason)
    assert stored(mongo_db, record["key"])["state"] == "requested"


def test_mongodb_down_skips_with_reason(instance: DagsterInstance) -> None:
    sensor = build_goal_notification_sensor(clock=lambda: NOW)
    closed = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    context = build_sensor_context(instance=instance, resources={"mongo": MongoResource(uri=closed)})

    result = sensor(context)

    assert isinstance(result, SkipReason)
    assert "The next tick retries" in (result.skip_message or "")


def test_stale_requests_with_runs_skip_reason(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance
) -> None:
    record = goal_record(1)
    store_fixture(mongo_db, fixture_document([record]))
    document = notification(record, state="requested")
    document["requested_at"] = NOW
    store_notification(mongo_db, document)
    instance.create_run_for_job(
        job_def=twitter_job,
        run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": record["key"]}}}},
        tags={RUN_KEY_TAG: record["key"]},
    )

    result = evaluate(mongo_db, mongo_uri, instance, now=NOW + timedelta(hours=1))

    assert isinstance(result, SkipReason)
    assert "1 stale requested notifications already have runs" in (result.skip_message or "")


def test_requests_with_runs_leave_batch(mongo_db: Database, mongo_uri: str, instance: DagsterInstance) -> None:
    records = [goal_record(1), goal_record(2, elapsed=50)]
    store_fixture(mongo_db, fixture_document(records))
    for seq, record in enumerate(records):
        document = notification(record, state="requested", created_at=NOW + timedelta(seconds=seq))
        document["requested_at"] = NOW
        store_notification(mongo_db, document)
    instance.create_run_for_job(
        job_def=twitter_job,
        run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": records[0]["key"]}}}},
        tags={RUN_KEY_TAG: records[0]["key"]},
    )
    later = NOW + timedelta(seconds=RECOVERY_DELAY + 1)

    first = evaluate(mongo_db, mongo_uri, instance, now=later, batch_size=1)
    second = evaluate(mongo_db, mongo_uri, instance, now=later + timedelta(seconds=15), batch_size=1)

    assert isinstance(first, SkipReason)
    assert stored(mongo_db, records[0]["key"])["run_seen_at"] == later
    assert isinstance(second, list)
    assert [request.run_key for request in second] == [records[1]["key"]]


def test_long_names_cut_in_tags(mongo_db: Database, mongo_uri: str, instance: DagsterInstance) -> None:
    record = goal_record(1, player="José " + "María " * 30 + "García")
    store_fixture(mongo_db, fixture_document([record], home="Club " * 30, away="Real " * 30))
    store_notification(mongo_db, notification(record))

    result = evaluate(mongo_db, mongo_uri, instance)

    assert isinstance(result, list)
    for value in result[0].tags.values():
        assert len(value) <= 63
    assert result[0].tags["fixture_assets/scorer"].endswith("…")
