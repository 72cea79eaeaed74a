"""Each way an API response can fail maps to one typed error, retried only where it should be."""

from __future__ import annotations

import json
import pickle
import socket
from pathlib import Path

import pytest

from fixture_assets.football_api import (
    ApiClientSettings,
    ApiTimeoutError,
    AuthenticationError,
    DailyQuotaExhaustedError,
    ErrorAction,
    FootballApiClient,
    FootballApiError,
    MissingFixturesError,
    RateLimitError,
    RequestParameterError,
    ServerError,
)
from fixture_assets.replay import (
    DelayFault,
    ErrorsFault,
    Fault,
    MissingIdFault,
    ReplayServer,
    StatusFault,
    TruncatedBodyFault,
)
from fixture_assets.replay.envelopes import envelope
from fixture_assets_tests.replay_fixtures import MakeApiClient, StartReplayServer, one_poll_scenario

FIXTURE_IDS = [1149519, 1149523]

# (fault, error class, requests sent by one call). Server errors are retried once.
ERROR_CASES: list[tuple[str, Fault, type[FootballApiError], int]] = [
    (
        "http-429",
        StatusFault(status=429, body={"errors": {"rateLimit": "Too many requests"}, "response": [], "results": 0}),
        RateLimitError,
        1,
    ),
    ("errors-rate-limit", ErrorsFault(errors={"rateLimit": "Too many requests."}), RateLimitError, 1),
    ("errors-requests", ErrorsFault(errors={"requests": "Daily request limit reached."}), DailyQuotaExhaustedError, 1),
    ("errors-token", ErrorsFault(errors={"token": "Error/Missing application key."}), AuthenticationError, 1),
    ("errors-plan", ErrorsFault(errors={"plan": "Your plan does not allow this season."}), AuthenticationError, 1),
    ("http-403", StatusFault(status=403, body={"message": "You are not subscribed."}), AuthenticationError, 1),
    ("errors-required", ErrorsFault(errors={"required": "A parameter is required."}), RequestParameterError, 1),
    ("http-404", StatusFault(status=404, body={"message": "Endpoint not found."}), RequestParameterError, 1),
    ("http-500", StatusFault(status=500), ServerError, 2),
    ("http-499", StatusFault(status=499), ServerError, 2),
    ("http-503", StatusFault(status=503, body=None), ServerError, 2),
    ("http-204", StatusFault(status=204), ServerError, 2),
    (
        "errors-bug",
        ErrorsFault(errors={"time": "2026-09-19 14:23:34", "bug": "This is on our side.", "report": "fixtures"}),
        ServerError,
        2,
    ),
    ("not-an-envelope", StatusFault(status=200, body={"message": "Something went wrong."}), ServerError, 2),
    ("json-not-object", StatusFault(status=200, body=["fixtures"]), ServerError, 2),
    ("truncated-body", TruncatedBodyFault(), ServerError, 2),
]
CASE_NAMES = [case[0] for case in ERROR_CASES]
CASE_VALUES = [case[1:] for case in ERROR_CASES]


@pytest.fixture
def server(shared_dir: Path, start_replay_server: StartReplayServer) -> ReplayServer:
    sample = shared_dir / "api-football-samples" / "ids-2024-03-13-cl-two-penalty-shootouts.json"
    items = json.loads(sample.read_text(encoding="utf-8"))["response"]
    return start_replay_server(one_poll_scenario(items))


@pytest.mark.parametrize(("fault", "error_class", "requests"), CASE_VALUES, ids=CASE_NAMES)
def test_date_error_maps_to_typed_error(
    server: ReplayServer,
    make_api_client: MakeApiClient,
    fault: Fault,
    error_class: type[FootballApiError],
    requests: int,
) -> None:
    server.inject_fault(fault, times=2)
    client = make_api_client(server)

    with pytest.raises(error_class) as caught:
        client.fixtures_by_date("2024-03-13")

    assert type(caught.value) is error_class
    assert len(server.requests) == requests
    assert client.requests_made == requests
    assert caught.value.path == "/fixtures"
    assert caught.value.params["date"] == "2024-03-13"
    assert "GET /fixtures?date=2024-03-13" in str(caught.value)


@pytest.mark.parametrize(("fault", "error_class", "requests"), CASE_VALUES, ids=CASE_NAMES)
def test_ids_error_becomes_chunk_failure(
    server: ReplayServer,
    make_api_client: MakeApiClient,
    fault: Fault,
    error_class: type[FootballApiError],
    requests: int,
) -> None:
    server.inject_fault(fault, times=2)
    client = make_api_client(server)

    batch = client.fixtures_by_ids(FIXTURE_IDS)

    assert batch.fixtures == []
    assert len(batch.failures) == 1
    assert type(batch.failures[0].error) is error_class
    assert batch.failures[0].ids == tuple(FIXTURE_IDS)
    assert batch.requests == requests


@pytest.mark.parametrize(
    ("error_class", "action", "advice"),
    [
        (RateLimitError, ErrorAction.RETRY_NEXT_TICK, "next poll"),
        (DailyQuotaExhaustedError, ErrorAction.PAUSE_UNTIL_MIDNIGHT_UTC, "00:00 UTC"),
        (AuthenticationError, ErrorAction.FAIL, "API key"),
        (RequestParameterError, ErrorAction.FAIL, "parameters"),
        (ServerError, ErrorAction.RETRY_NEXT_TICK, "next poll"),
        (ApiTimeoutError, ErrorAction.RETRY_NEXT_TICK, "next poll"),
    ],
)
def test_error_action_and_advice(error_class: type[FootballApiError], action: ErrorAction, advice: str) -> None:
    error = error_class("HTTP 500", path="/fixtures", params={"ids": "1-2"}, status_code=500)

    assert error.action is action
    assert advice in str(error)
    assert str(error).startswith("GET /fixtures?ids=1-2 failed: HTTP 500.")


def test_missing_fixtures_error_action() -> None:
    error = MissingFixturesError((7, 8), path="/fixtures", params={"ids": "6-7-8"}, status_code=200)

    assert error.action is ErrorAction.RETRY_NEXT_TICK
    assert error.missing_ids == (7, 8)
    assert "lacks 2 requested fixture(s): 7, 8" in str(error)


def test_server_error_retried_once_then_succeeds(server: ReplayServer, make_api_client: MakeApiClient) -> None:
    server.inject_fault(StatusFault(status=500), times=1)
    client = make_api_client(server)

    batch = client.fixtures_by_ids(FIXTURE_IDS)

    assert sorted(fixture.id for fixture in batch.fixtures) == sorted(FIXTURE_IDS)
    assert batch.failures == []
    assert batch.requests == 2
    assert [request.status for request in server.requests] == [500, 200]


def test_read_timeout_not_retried(server: ReplayServer, make_api_client: MakeApiClient) -> None:
    server.inject_fault(DelayFault(seconds=1.5), times=2)
    client = make_api_client(server, read_timeout_s=0.2)

    with pytest.raises(ApiTimeoutError) as caught:
        client.fixtures_by_date("2024-03-13")

    assert caught.value.status_code is None
    assert "read timeout of 0.2 s" in str(caught.value)
    assert len(server.requests) == 1


def test_missing_id_fault_default_drops_first(server: ReplayServer, make_api_client: MakeApiClient) -> None:
    server.inject_fault(MissingIdFault())
    client = make_api_client(server)

    batch = client.fixtures_by_ids(FIXTURE_IDS)

    error = batch.failures[0].error
    assert isinstance(error, MissingFixturesError)
    assert error.missing_ids == (FIXTURE_IDS[0],)
    assert batch.requests == 1


def test_connection_refused_is_server_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ApiClientSettings(base_url=f"http://127.0.0.1:{port}", retry_delay_s=0.01, connect_timeout_s=1.0)

    with FootballApiClient(settings) as client, pytest.raises(ServerError) as caught:
        client.account_status()

    assert "connection" in str(caught.value)
    assert client.requests_made == 2


def test_error_carries_failed_response_quota(server: ReplayServer, make_api_client: MakeApiClient) -> None:
    headers = {"x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-limit": "7500"}
    errors = {"requests": "You have reached the request limit for the day."}
    body = envelope("fixtures", {"date": "2024-03-13"}, [], errors)
    server.inject_fault(StatusFault(status=200, body=body, headers=headers))
    client = make_api_client(server)

    with pytest.raises(DailyQuotaExhaustedError) as caught:
        client.fixtures_by_date("2024-03-13")

    assert caught.value.quota is not None
    assert caught.value.quota.day_remaining == 0


def test_errors_survive_pickling() -> None:
    errors: list[FootballApiError] = [
        ServerError("HTTP 500", path="/fixtures", params={"ids": "1"}, status_code=500),
        MissingFixturesError((1, 2), path="/fixtures", params={"ids": "1-2-3"}, status_code=200),
    ]

    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.params == error.params
        assert copy.status_code == error.status_code
    assert pickle.loads(pickle.dumps(errors[1])).missing_ids == (1, 2)
