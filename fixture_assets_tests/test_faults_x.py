"""X faults through the daemon: a replayed goal, the goal notification sensor, the twitter job, the X stand-in.

The goal comes from a replayed match (one alert). Dagster's sensor daemon
loop requests its run and launches it; the job is ``twitter_job`` with a
retry policy that does not wait (``fault_definitions``). Each test programs
one fault on the X stand-in and checks what reached the account, the stored
notification and the run's messages to the operator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, instance_for_test
from pymongo.database import Database

from fixture_assets.replay.runner import run_scenario
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.twitter.publisher import POSTING_CREDENTIAL_VARS

from .conftest import SCENARIOS_DIR
from .fault_daemon import INSTANCE_OVERRIDES, daemon_sensors, run_events, run_messages
from .twitter_fixtures import CREDENTIALS
from .x_api_stub import CREATE, RecordedRequest, StubResponse, XApiStub

pytestmark = pytest.mark.faults

SCENARIO = SCENARIOS_DIR / "tc05-scorer-reattributed-to-own-goal.json"
CODE_LOCATION = "fixture_assets_tests.fault_definitions"


class LosingXApiStub(XApiStub):
    """The X stand-in, able to create a post and respond with 503, as when X's response is lost on the way."""

    def __init__(self, **credentials: Any) -> None:
        super().__init__(**credentials)
        self.lost_responses = 0

    def _create(self, request: RecordedRequest) -> StubResponse:
        response = super()._create(request)
        if response.status == 201 and self.lost_responses:
            self.lost_responses -= 1
            return StubResponse.server_error(503)
        return response


@pytest.fixture
def x_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LosingXApiStub]:
    credentials = {
        "api_key": CREDENTIALS["X_API_KEY"],
        "api_secret": CREDENTIALS["X_API_SECRET"],
        "access_token": CREDENTIALS["X_ACCESS_TOKEN"],
        "access_token_secret": CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
        "bearer_token": CREDENTIALS["X_BEARER_TOKEN"],
    }
    with LosingXApiStub(**credentials) as stub:
        for name, value in CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("X_API_BASE_URL", stub.base_url)
        yield stub


@pytest.fixture
def alert_key(shared_dir, mongo_uri: str, mongo_db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    """Replay a match with one goal into ``mongo_db`` and return the key of its due alert."""
    run_scenario(ScenarioSource.from_file(SCENARIO), mongo_db)
    [alert] = list(mongo_db[NOTIFICATIONS].find({"state": "due"}))
    # The code server and the run read the MongoDB settings from the environment.
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("MONGO_DATABASE", mongo_db.name)
    return alert["key"]


@dataclass
class Delivery:
    instance: DagsterInstance
    run: DagsterRun

    @property
    def messages(self) -> list[str]:
        return run_messages(self.instance, self.run.run_id)

    def events(self, event_type: DagsterEventType) -> list[Any]:
        return run_events(self.instance, self.run.run_id, event_type)

    @property
    def failure_message(self) -> str:
        [failure] = self.events(DagsterEventType.STEP_FAILURE)
        return failure.event_specific_data.error.message


@contextmanager
def delivered(key: str) -> Iterator[Delivery]:
    """Run one sensor daemon iteration on a new instance and yield the run it launched for ``key``."""
    with instance_for_test(overrides=INSTANCE_OVERRIDES) as instance:
        with daemon_sensors(instance, CODE_LOCATION) as iterate:
            iterate(datetime.now(UTC))
        [run] = instance.get_runs()
        assert run.tags["dagster/run_key"] == key
        yield Delivery(instance, run)


def stored(database: Database, key: str) -> dict[str, Any]:
    document = database[NOTIFICATIONS].find_one({"key": key}, {"_id": 0})
    assert document is not None
    return document


def test_rate_limit_waits_for_reset(mongo_db: Database, alert_key: str, x_api: LosingXApiStub) -> None:
    x_api.enqueue(CREATE, StubResponse.rate_limited(datetime.now(UTC).timestamp() + 1))

    with delivered(alert_key) as delivery:
        assert delivery.run.status is DagsterRunStatus.SUCCESS
        assert delivery.events(DagsterEventType.STEP_UP_FOR_RETRY) == []
        waits = [message for message in delivery.messages if "for the rate-limit reset" in message]

    assert len(waits) == 1
    assert waits[0].startswith(f"notification {alert_key}: POST /2/tweets was rate limited by X (429)")
    assert len(x_api.requests_to(CREATE)) == 2
    assert len(x_api.posts) == 1
    assert stored(mongo_db, alert_key)["state"] == "posted"


def test_server_errors_retried_by_policy(mongo_db: Database, alert_key: str, x_api: LosingXApiStub) -> None:
    x_api.enqueue(CREATE, StubResponse.server_error(503), StubResponse.server_error(502))

    with delivered(alert_key) as delivery:
        assert delivery.run.status is DagsterRunStatus.SUCCESS
        retries = delivery.events(DagsterEventType.STEP_UP_FOR_RETRY)

    assert len(retries) == 2
    assert len(x_api.requests_to(CREATE)) == 3
    assert len(x_api.posts) == 1
    document = stored(mongo_db, alert_key)
    assert document["state"] == "posted"
    assert document["post_id"] in x_api.posts


def test_lost_response_then_duplicate_fails_clearly(mongo_db: Database, alert_key: str, x_api: LosingXApiStub) -> None:
    x_api.lost_responses = 1

    with delivered(alert_key) as delivery:
        assert delivery.run.status is DagsterRunStatus.FAILURE
        retries = delivery.events(DagsterEventType.STEP_UP_FOR_RETRY)
        message = delivery.failure_message

    # The first request created the post; the retry got 403 duplicate content.
    assert len(retries) == 1
    assert len(x_api.requests_to(CREATE)) == 2
    assert len(x_api.posts) == 1
    assert "duplicate content (403)" in message
    assert "no post id is stored for it" in message
    assert f"set state 'posted' and post_id '<id>' on {{key: '{alert_key}'}}" in message
    document = stored(mongo_db, alert_key)
    assert document["state"] == "failed"
    assert document.get("post_id") is None


def test_duplicate_with_stored_post_id_succeeds(mongo_db: Database, alert_key: str, x_api: LosingXApiStub) -> None:
    # As after an operator stored the id of a post that X did create.
    post_id = x_api.add_post("GOAL! posted by an earlier attempt")
    mongo_db[NOTIFICATIONS].update_one({"key": alert_key}, {"$set": {"post_id": post_id}})
    x_api.enqueue(CREATE, StubResponse.duplicate_content())

    with delivered(alert_key) as delivery:
        assert delivery.run.status is DagsterRunStatus.SUCCESS
        warnings = [message for message in delivery.messages if "duplicate content" in message]

    assert warnings == [
        f"notification {alert_key}: X reports duplicate content and post {post_id} is already stored; "
        "counting it as posted"
    ]
    assert len(x_api.requests_to(CREATE)) == 1
    assert list(x_api.posts) == [post_id]
    document = stored(mongo_db, alert_key)
    assert document["state"] == "posted"
    assert document["post_id"] == post_id


def test_rejected_credentials_fail_without_retry(
    mongo_db: Database, alert_key: str, x_api: LosingXApiStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked = "revoked-access-token-secret-3c9d1e"
    monkeypatch.setenv("X_ACCESS_TOKEN_SECRET", revoked)

    with delivered(alert_key) as delivery:
        assert delivery.run.status is DagsterRunStatus.FAILURE
        retries = delivery.events(DagsterEventType.STEP_UP_FOR_RETRY)
        message = delivery.failure_message
        everything = "\n".join(delivery.messages)

    assert retries == []
    assert len(x_api.requests_to(CREATE)) == 1
    assert x_api.posts == {}
    assert "401 Unauthorized" in message
    assert f"Check {', '.join(POSTING_CREDENTIAL_VARS)}" in message
    assert revoked not in everything
    for secret in CREDENTIALS.values():
        assert secret not in everything
    assert stored(mongo_db, alert_key)["state"] == "failed"
