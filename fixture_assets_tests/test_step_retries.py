"""Configuration errors fail a step at once, while errors that clear up keep the retry policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    ExecuteInProcessResult,
    Failure,
    RetryPolicy,
    instance_for_test,
    materialize,
)
from pymongo.database import Database

from fixture_assets.core.status import StatusClass
from fixture_assets.defs.fixtures.assets import _api_failures, _materialize, staged_fixtures
from fixture_assets.defs.fixtures.resources import FootballApiResource, PollingResource
from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import XResource, build_twitter_job
from fixture_assets.discovery import FixtureBatchResult
from fixture_assets.football_api import ChunkFailure, FootballApiError
from fixture_assets.football_api.errors import AuthenticationError, DailyQuotaExhaustedError, RateLimitError, ServerError

MATCH_DATE = "2024-05-25"

# Retries without delay, so that a retry the code should not make shows up fast.
fast_twitter_job = build_twitter_job(name="twitter_job_retry_test", retry_policy=RetryPolicy(max_retries=2))


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as test_instance:
        yield test_instance


def materialize_staged(mongo: MongoResource, football_api: FootballApiResource, instance: DagsterInstance) -> ExecuteInProcessResult:
    return materialize(
        [staged_fixtures],
        partition_key=MATCH_DATE,
        resources={"mongo": mongo, "football_api": football_api, "polling": PollingResource()},
        instance=instance,
        raise_on_error=False,
    )


def step_events(result: ExecuteInProcessResult, event_type: DagsterEventType) -> list:
    return [event for event in result.all_events if event.event_type == event_type]


def failure_message(result: ExecuteInProcessResult) -> str:
    [failure] = step_events(result, DagsterEventType.STEP_FAILURE)
    return failure.event_specific_data.error.message


def test_missing_api_key_fails_without_retry(mongo_uri: str, mongo_db: Database, instance: DagsterInstance) -> None:
    mongo = MongoResource(uri=mongo_uri, database=mongo_db.name)

    result = materialize_staged(mongo, FootballApiResource(), instance)

    assert not result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert len(step_events(result, DagsterEventType.STEP_START)) == 1
    message = failure_message(result)
    assert "API_FOOTBALL_KEY is not set" in message
    assert "API_FOOTBALL_BASE_URL" in message


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("garbage", "MONGO_URI is 'garbage'"),
        ("mongodb://fixture:hunter2@127.0.0.1:port/", "MONGO_URI mongodb://fixture:***@127.0.0.1:port/ is invalid"),
    ],
    ids=["no-scheme", "port-not-a-number"],
)
def test_invalid_mongo_uri_fails_without_retry(uri: str, expected: str, instance: DagsterInstance) -> None:
    football_api = FootballApiResource(base_url="http://127.0.0.1:9/")

    result = materialize_staged(MongoResource(uri=uri), football_api, instance)

    assert not result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    message = failure_message(result)
    assert expected in message
    assert "hunter2" not in message


def test_twitter_invalid_mongo_uri_not_retried(instance: DagsterInstance) -> None:
    result = fast_twitter_job.execute_in_process(
        run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": "1-2-3"}}}},
        resources={"mongo": MongoResource(uri="garbage"), "x": XResource()},
        instance=instance,
        raise_on_error=False,
    )

    assert not result.success
    assert step_events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert "MONGO_URI is 'garbage'" in failure_message(result)


def api_error(error_type: type[FootballApiError]) -> FootballApiError:
    return error_type("the test's error", path="/fixtures", params={"date": MATCH_DATE}, status_code=200)


@pytest.mark.parametrize(
    "error_type, retried",
    [
        (ServerError, True),
        (RateLimitError, True),
        (AuthenticationError, False),
        (DailyQuotaExhaustedError, False),
    ],
)
def test_api_error_retried_only_when_transient(error_type: type[FootballApiError], retried: bool) -> None:
    with pytest.raises(Failure) as raised, _api_failures(MATCH_DATE):
        raise api_error(error_type)

    assert raised.value.allow_retries is retried
    assert raised.value.description.startswith(f"{MATCH_DATE}: GET /fixtures?date={MATCH_DATE} failed")


@pytest.mark.parametrize(
    "error_types, retried",
    [
        ([ServerError, ServerError], True),
        ([ServerError, AuthenticationError], False),
    ],
    ids=["all-transient", "one-key-error"],
)
def test_failed_chunks_retried_only_when_transient(
    error_types: list[type[FootballApiError]], retried: bool, mongo_uri: str, mongo_db: Database
) -> None:
    failures = [ChunkFailure((index + 1,), api_error(error_type)) for index, error_type in enumerate(error_types)]
    result = FixtureBatchResult(MATCH_DATE, failures=failures)

    with pytest.raises(Failure) as raised:
        _materialize(MongoResource(uri=mongo_uri, database=mongo_db.name), result, StatusClass.LIVE)

    assert raised.value.allow_retries is retried
    assert raised.value.metadata["retried"].value is retried
    # The description shows the error that decided against a retry.
    assert ("Check the API key" in raised.value.description) is not retried
