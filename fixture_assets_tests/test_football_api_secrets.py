"""The API key reaches the server in the right header and never appears in logs or error messages."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

import pytest

from fixture_assets.football_api import (
    ApiClientSettings,
    AuthenticationError,
    FootballApiClient,
    FootballApiError,
    read_archive_file,
)
from fixture_assets.replay import (
    DelayFault,
    ErrorsFault,
    MissingIdFault,
    ReplayServer,
    StatusFault,
    TruncatedBodyFault,
)
from fixture_assets.replay.envelopes import envelope
from fixture_assets_tests.replay_fixtures import (
    TEST_API_KEY,
    MakeApiClient,
    StartReplayServer,
    fixture_item,
    one_poll_scenario,
)


@pytest.fixture
def server(start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(one_poll_scenario([fixture_item(11), fixture_item(12)]))


def test_key_absent_from_logs_and_errors(
    server: ReplayServer, make_api_client: MakeApiClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    client = make_api_client(server, read_timeout_s=0.3, archive_dir=tmp_path, quota_warning_floor=10_000)
    echo_body = envelope("fixtures", {}, [], {"token": f"The key {TEST_API_KEY} is not valid."})
    faults = [
        StatusFault(status=500),
        StatusFault(status=500, body={"message": f"echo {TEST_API_KEY}"}),
        StatusFault(status=200, body=echo_body),
        StatusFault(status=429),
        ErrorsFault(errors={"token": "Error/Missing application key."}),
        ErrorsFault(errors={"requests": "Daily limit reached."}),
        TruncatedBodyFault(),
        DelayFault(seconds=1.0),
        MissingIdFault(),
    ]
    errors: list[FootballApiError] = []

    with caplog.at_level(logging.DEBUG):
        client.fixtures_by_ids([11, 12])
        for fault in faults:
            server.inject_fault(fault, times=2)
            batch = client.fixtures_by_ids([11, 12])
            errors.extend(failure.error for failure in batch.failures)
            try:
                client.fixtures_by_date("2024-03-01")
            except FootballApiError as error:
                errors.append(error)
            server.clear_requests()
        client.account_status()

    assert len(errors) >= len(faults)
    assert TEST_API_KEY not in caplog.text
    for error in errors:
        assert TEST_API_KEY not in str(error)
        assert TEST_API_KEY not in repr(error)
        assert TEST_API_KEY not in "".join(traceback.format_exception(error))
    assert TEST_API_KEY not in repr(client.settings)
    for archive_file in tmp_path.glob("*.jsonl.gz"):
        # The echo faults put the key in response bodies, but nothing from a request is archived.
        for line in read_archive_file(archive_file):
            assert TEST_API_KEY not in json.dumps(line["params"])
            assert TEST_API_KEY not in json.dumps(line["headers"])


def test_direct_key_sent_in_apisports_header(server: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(server)

    client.fixtures_by_ids([11])

    served = server.requests[0]
    assert served.auth_header == "x-apisports-key"
    assert served.rapidapi_host is None


def test_rapidapi_key_sent_with_host_header(server: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(server, base_url=f"{server.url}/v3", auth_mode="rapidapi")

    batch = client.fixtures_by_ids([11, 12])

    assert [fixture.id for fixture in batch.fixtures] == [11, 12]
    served = server.requests[0]
    assert served.path == "/fixtures"
    assert served.auth_header == "x-rapidapi-key"
    assert served.rapidapi_host == "api-football-v1.p.rapidapi.com"


@pytest.mark.parametrize("auth_mode", ["direct", "rapidapi"])
def test_expected_key_accepted_in_both_styles(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient, auth_mode: str
) -> None:
    server = start_replay_server(one_poll_scenario([fixture_item(11)]), expected_api_key=TEST_API_KEY)
    client = make_api_client(server, base_url=f"{server.url}/v3", auth_mode=auth_mode)

    batch = client.fixtures_by_ids([11])

    assert batch.failures == []
    assert [fixture.id for fixture in batch.fixtures] == [11]


@pytest.mark.parametrize("api_key", ["wrong-key", None])
def test_wrong_or_missing_key_is_authentication_error(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient, api_key: str | None
) -> None:
    server = start_replay_server(one_poll_scenario([fixture_item(11)]), expected_api_key=TEST_API_KEY)
    client = make_api_client(server, api_key=api_key)

    with pytest.raises(AuthenticationError) as caught:
        client.fixtures_by_date("2024-03-01")

    assert "application key" in str(caught.value)
    assert len(server.requests) == 1
    assert server.requests[0].auth_header == ("x-apisports-key" if api_key else None)


def test_key_read_from_environment(server: ReplayServer) -> None:
    environ = {"API_FOOTBALL_KEY": TEST_API_KEY, "API_FOOTBALL_BASE_URL": server.url}

    settings = ApiClientSettings.from_env(environ, retry_delay_s=0.01)
    with FootballApiClient(settings) as client:
        client.account_status()

    assert settings.api_key == TEST_API_KEY
    assert settings.base_url == server.url
    assert server.requests[0].auth_header == "x-apisports-key"
