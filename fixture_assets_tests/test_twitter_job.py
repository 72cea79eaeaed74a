"""twitter_job in Dagster: retries, dry run, exactly-once across runs and instances, no leaked credentials."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    ExecuteInProcessResult,
    RetryPolicy,
    instance_for_test,
    serialize_value,
)
from pymongo.database import Database

from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import XResource, build_twitter_job, twitter_job
from fixture_assets.store.database import NOTIFICATIONS

from .twitter_fixtures import (
    CREDENTIALS,
    fixture_document,
    goal_record,
    no_x_environment,  # noqa: F401
    notification,
    store_fixture,
    store_notification,
    x_environment,  # noqa: F401
    x_stub,  # noqa: F401
)
from .x_api_stub import CREATE, StubResponse, XApiStub

# The job under test retries without delay.
fast_job = build_twitter_job(name="twitter_job_test", retry_policy=RetryPolicy(max_retries=2), max_wait_retries=2)


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def goal_key(mongo_db: Database) -> str:
    record = goal_record(1, elapsed=45, extra=2, assist="Martin Ødegaard", detail="Penalty")
    store_fixture(mongo_db, fixture_document([record]))
    store_notification(mongo_db, notification(record, state="requested"))
    return record["key"]


def run(
    key: str,
    mongo_uri: str,
    database: Database,
    instance: DagsterInstance,
    job: Any = fast_job,
    **x_settings: Any,
) -> ExecuteInProcessResult:
    x_settings.setdefault("rate_limit_margin_seconds", 0.0)
    return job.execute_in_process(
        run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": key}}}},
        resources={
            "mongo": MongoResource(uri=mongo_uri, database=database.name),
            "x": XResource.from_env(**x_settings),
        },
        instance=instance,
        tags={"fixture_assets/fixture_id": "1153127"},
        raise_on_error=False,
    )


def stored(database: Database, key: str) -> dict[str, Any]:
    document = database[NOTIFICATIONS].find_one({"key": key}, {"_id": 0})
    assert document is not None
    return document


def step_metadata(result: ExecuteInProcessResult) -> dict[str, Any]:
    [output] = [event for event in result.all_events if event.event_type is DagsterEventType.STEP_OUTPUT]
    return {name: value.value for name, value in output.event_specific_data.metadata.items()}


def log_messages(instance: DagsterInstance, run_id: str) -> list[str]:
    return [record.user_message for record in instance.all_logs(run_id)]


def step_events(result: ExecuteInProcessResult, event_type: DagsterEventType) -> list[Any]:
    return [event for event in result.all_events if event.event_type is event_type]


EXPECTED_TEXT = "GOAL! Arsenal 1-0 Chelsea\n45+2' Bukayo Saka (pen)\nAssist: Martin Ødegaard\nPremier League"


def test_default_job_retry_policy() -> None:
    policy = twitter_job.get_node_named("deliver_goal_notification").definition.retry_policy

    assert policy is not None
    assert policy.max_retries >= 3
    assert policy.delay and policy.delay > 0


def test_dry_run_records_text(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, no_x_environment: None  # noqa: F811
) -> None:
    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert result.success
    assert stored(mongo_db, goal_key)["state"] == "dry_run"
    assert stored(mongo_db, goal_key)["text"] == EXPECTED_TEXT
    metadata = step_metadata(result)
    assert metadata["text"] == EXPECTED_TEXT
    assert metadata["state"] == "dry_run"
    messages = log_messages(instance, result.run_id)
    assert any(EXPECTED_TEXT in message for message in messages)
    assert any("dry-run mode" in message for message in messages)


def test_posts_and_stores_post_id(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert result.success
    document = stored(mongo_db, goal_key)
    assert document["state"] == "posted"
    assert document["run_id"] == result.run_id
    assert x_environment.posts[document["post_id"]]["text"] == EXPECTED_TEXT
    metadata = step_metadata(result)
    assert metadata["post_id"] == document["post_id"]
    assert metadata["post_url"] == f"https://x.com/i/web/status/{document['post_id']}"


def test_reexecution_and_wiped_instance_post_nothing(
    mongo_db: Database, mongo_uri: str, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    with instance_for_test() as first_instance:
        first = run(goal_key, mongo_uri, mongo_db, first_instance)
        again = run(goal_key, mongo_uri, mongo_db, first_instance)
    # A new instance has none of the first one's runs or run keys, as after wiping DAGSTER_HOME.
    with instance_for_test() as wiped_instance:
        after_wipe = run(goal_key, mongo_uri, mongo_db, wiped_instance)

    assert first.success
    assert again.success
    assert after_wipe.success
    assert step_metadata(again)["already_done"] is True
    assert step_metadata(after_wipe)["already_done"] is True
    assert step_metadata(after_wipe)["post_id"] == stored(mongo_db, goal_key)["post_id"]
    assert len(x_environment.requests_to(CREATE)) == 1
    assert len(x_environment.posts) == 1


def test_server_error_retried_by_policy(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    x_environment.enqueue(CREATE, StubResponse.server_error(503), StubResponse.server_error(502))

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert result.success
    assert len(step_events(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 2
    assert len(x_environment.requests_to(CREATE)) == 3
    assert len(x_environment.posts) == 1
    assert stored(mongo_db, goal_key)["attempts"] == 3


def test_server_errors_exhaust_retries(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    x_environment.enqueue(CREATE, *[StubResponse.server_error(503)] * 3)

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert not result.success
    assert len(x_environment.requests_to(CREATE)) == 3
    document = stored(mongo_db, goal_key)
    assert document["state"] == "failed"
    assert "503" in document["error"]
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    assert "Giving up after 2 retries" in failure.event_specific_data.error.message


def test_unauthorized_fails_without_retry(
    mongo_db: Database,
    mongo_uri: str,
    instance: DagsterInstance,
    goal_key: str,
    x_environment: XApiStub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_ACCESS_TOKEN_SECRET", "revoked-token-secret")

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert not result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert len(x_environment.requests_to(CREATE)) == 1
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    message = failure.event_specific_data.error.message
    assert "401 Unauthorized" in message
    assert "X_ACCESS_TOKEN_SECRET" in message
    assert "revoked-token-secret" not in message
    assert stored(mongo_db, goal_key)["state"] == "failed"


def test_rate_limit_waits_then_posts(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    # The reset is already due, so the wait inside the run is zero seconds.
    x_environment.enqueue(CREATE, StubResponse.rate_limited(time.time()))

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert len(x_environment.requests_to(CREATE)) == 2
    assert any("rate-limit reset" in message for message in log_messages(instance, result.run_id))


def test_rate_limit_retries_step_when_waits_used_up(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    x_environment.enqueue(CREATE, StubResponse.rate_limited(time.time()))

    result = run(goal_key, mongo_uri, mongo_db, instance, rate_limit_max_waits=0)

    assert result.success
    assert len(step_events(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 1
    assert len(x_environment.posts) == 1


def test_duplicate_without_post_id_fails_clearly(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    x_environment.add_post(EXPECTED_TEXT)

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert not result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    assert "duplicate content" in failure.event_specific_data.error.message
    assert "no post id is stored" in failure.event_specific_data.error.message


def test_claim_of_crashed_run_blocks(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, x_environment: XApiStub  # noqa: F811
) -> None:
    mongo_db[NOTIFICATIONS].update_one(
        {"key": goal_key}, {"$set": {"state": "posting", "run_id": "crashed-run", "sending_at": None}}
    )

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert not result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert x_environment.requests == []
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    assert "held by run crashed-run" in failure.event_specific_data.error.message
    assert "That run sent nothing to X" in failure.event_specific_data.error.message


def test_partial_credentials_name_missing(
    mongo_db: Database,
    mongo_uri: str,
    instance: DagsterInstance,
    goal_key: str,
    no_x_environment: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_API_KEY", CREDENTIALS["X_API_KEY"])
    monkeypatch.setenv("X_ACCESS_TOKEN", CREDENTIALS["X_ACCESS_TOKEN"])

    result = run(goal_key, mongo_uri, mongo_db, instance)

    assert not result.success
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    message = failure.event_specific_data.error.message
    assert "X_API_SECRET, X_ACCESS_TOKEN_SECRET are not set" in message
    assert CREDENTIALS["X_API_KEY"] not in message
    assert CREDENTIALS["X_ACCESS_TOKEN"] not in message
    assert stored(mongo_db, goal_key)["state"] == "requested"


def test_clip_search_without_bearer_token(
    mongo_db: Database,
    mongo_uri: str,
    instance: DagsterInstance,
    goal_key: str,
    x_environment: XApiStub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN")

    result = run(goal_key, mongo_uri, mongo_db, instance, clip_search_enabled=True)

    assert not result.success
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    assert "X_BEARER_TOKEN is not set" in failure.event_specific_data.error.message
    assert x_environment.requests == []


def test_invalid_template_fails_clearly(
    mongo_db: Database, mongo_uri: str, instance: DagsterInstance, goal_key: str, no_x_environment: None  # noqa: F811
) -> None:
    result = run(goal_key, mongo_uri, mongo_db, instance, alert_template="{home} {stadium}")

    assert not result.success
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    assert "unknown field {stadium}" in failure.event_specific_data.error.message


def test_no_credential_leaks(
    mongo_db: Database,
    mongo_uri: str,
    instance: DagsterInstance,
    x_environment: XApiStub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = [goal_record(seq, elapsed=10 * seq, player=f"Player {seq}") for seq in (1, 2, 3, 4)]
    store_fixture(mongo_db, fixture_document(records))
    for record in records:
        store_notification(mongo_db, notification(record, state="requested"))
    x_environment.search_results = [{"id": "9", "text": "clip", "author_id": "4", "username": "fan"}]
    # One run each: a post with clip search, a 5xx retried, a 429 waited out, and a 401.
    x_environment.enqueue(
        CREATE,
        StubResponse(201, {"data": {"id": "1", "text": "x"}}),
        StubResponse.server_error(503),
        StubResponse(201, {"data": {"id": "2", "text": "x"}}),
        StubResponse.rate_limited(time.time()),
        StubResponse(201, {"data": {"id": "3", "text": "x"}}),
        StubResponse.unauthorized(),
    )

    with caplog.at_level(logging.DEBUG):
        results = [run(record["key"], mongo_uri, mongo_db, instance, clip_search_enabled=True) for record in records]

    assert [result.success for result in results] == [True, True, True, False]
    texts = [caplog.text]
    for result in results:
        dagster_run = instance.get_run_by_id(result.run_id)
        assert dagster_run is not None
        texts.append(json.dumps(dagster_run.tags))
        texts.append(json.dumps(dagster_run.run_config))
        texts.extend(serialize_value(record) for record in instance.all_logs(result.run_id))
    texts.extend(json.dumps(document, default=str) for document in mongo_db[NOTIFICATIONS].find({}, {"_id": 0}))
    everything = "\n".join(texts)
    for name, secret in CREDENTIALS.items():
        assert secret not in everything, f"{name} leaked"
    # The checks above must have seen real material.
    assert "Bearer ***" in caplog.text
    assert "X_API_KEY" in everything
    # Secrets travel only in the Authorization header, never in the URL or body.
    for request in x_environment.requests:
        outside_header = request.raw_text().replace(request.headers.get("Authorization", ""), "")
        for secret in CREDENTIALS.values():
            assert secret not in outside_header
