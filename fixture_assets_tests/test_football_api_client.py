"""FootballApiClient against a replay server over a real socket: chunking, concurrency, queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixture_assets.football_api import (
    AuthenticationError,
    MissingFixturesError,
    ServerError,
)
from fixture_assets.replay import DelayFault, ErrorsFault, MissingIdFault, ReplayServer, StatusFault
from fixture_assets.replay.envelopes import envelope
from fixture_assets_tests.replay_fixtures import MakeApiClient, StartReplayServer, one_poll_scenario


@pytest.fixture
def bundesliga_items(shared_dir: Path) -> list[dict[str, Any]]:
    """71 Bundesliga fixtures with distinct ids, recorded by ``league=78&season=2023``."""
    sample = shared_dir / "api-football-samples" / "league78-season2023-status-NS-PST.json"
    return json.loads(sample.read_text(encoding="utf-8"))["response"]


@pytest.fixture
def bundesliga_server(bundesliga_items: list[dict[str, Any]], start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(one_poll_scenario(bundesliga_items))


def ids_of(items: list[dict[str, Any]]) -> list[int]:
    return [item["fixture"]["id"] for item in items]


def test_ids_fetched_in_chunks_of_20(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    ids = ids_of(bundesliga_items)[:45]
    client = make_api_client(bundesliga_server)

    batch = client.fixtures_by_ids(ids)

    requests = bundesliga_server.requests
    assert len(requests) == 3
    assert all(len(request.ids) <= 20 for request in requests)
    assert sorted(fixture_id for request in requests for fixture_id in request.ids) == sorted(ids)
    assert sorted(fixture.id for fixture in batch.fixtures) == sorted(ids)
    assert batch.failures == []
    assert batch.rejected == []
    assert batch.requests == 3
    assert client.requests_made == 3


def test_ids_duplicates_fetched_once(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    ids = ids_of(bundesliga_items)[:5]
    client = make_api_client(bundesliga_server)

    batch = client.fixtures_by_ids(ids + ids[:3])

    assert len(bundesliga_server.requests) == 1
    assert bundesliga_server.requests[0].ids == tuple(ids)
    assert [fixture.id for fixture in batch.fixtures] == ids


@pytest.mark.parametrize("bad_id", [0, -3, True, "1035148", 1.5, None])
def test_ids_invalid_raise_value_error(
    bundesliga_server: ReplayServer, make_api_client: MakeApiClient, bad_id: Any
) -> None:
    client = make_api_client(bundesliga_server)

    with pytest.raises(ValueError, match="positive integers"):
        client.fixtures_by_ids([1035148, bad_id])

    assert bundesliga_server.requests == []


def test_ids_string_rejected(bundesliga_server: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(bundesliga_server)

    with pytest.raises(ValueError, match="sequence of fixture ids"):
        client.fixtures_by_ids("1035148-1035149")  # type: ignore[arg-type]


def test_ids_empty_sends_nothing(bundesliga_server: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(bundesliga_server)

    batch = client.fixtures_by_ids([])

    assert batch.fixtures == []
    assert batch.requests == 0
    assert bundesliga_server.requests == []


@pytest.mark.parametrize("max_in_flight", [1, 2, 4])
def test_ids_chunks_bounded_in_flight(
    bundesliga_server: ReplayServer,
    bundesliga_items: list[dict[str, Any]],
    make_api_client: MakeApiClient,
    max_in_flight: int,
) -> None:
    # Every chunk is held for a moment, so chunks that may overlap do overlap.
    bundesliga_server.inject_fault(DelayFault(seconds=0.2, param="ids"), times=4)
    client = make_api_client(bundesliga_server, max_in_flight=max_in_flight)

    batch = client.fixtures_by_ids(ids_of(bundesliga_items)[:71])

    assert len(batch.fixtures) == 71
    assert bundesliga_server.peak_in_flight <= max_in_flight
    assert bundesliga_server.peak_in_flight >= min(max_in_flight, 2)


def test_ids_failed_chunk_keeps_others(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    ids = ids_of(bundesliga_items)[:45]
    bundesliga_server.inject_fault(StatusFault(status=500), times=2)
    client = make_api_client(bundesliga_server, max_in_flight=1)

    batch = client.fixtures_by_ids(ids)

    assert len(batch.failures) == 1
    assert batch.failures[0].ids == tuple(ids[:20])
    assert isinstance(batch.failures[0].error, ServerError)
    assert batch.failed_ids == tuple(ids[:20])
    assert sorted(fixture.id for fixture in batch.fixtures) == sorted(ids[20:])
    assert batch.requests == 4


def test_ids_account_error_stops_unsent_chunks(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    bundesliga_server.inject_fault(ErrorsFault(errors={"token": "Error/Missing application key."}))
    client = make_api_client(bundesliga_server, max_in_flight=1)

    batch = client.fixtures_by_ids(ids_of(bundesliga_items)[:45])

    assert len(bundesliga_server.requests) == 1
    assert batch.fixtures == []
    assert len(batch.failures) == 3
    assert all(isinstance(failure.error, AuthenticationError) for failure in batch.failures)
    assert "not sent" in str(batch.failures[2].error)
    assert batch.failures[2].error.params == {"ids": "-".join(str(i) for i in batch.failures[2].ids)}


def test_ids_missing_fixture_fails_chunk(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    ids = ids_of(bundesliga_items)[:25]
    bundesliga_server.inject_fault(MissingIdFault(fixture_ids=(ids[3],)))
    client = make_api_client(bundesliga_server, max_in_flight=1)

    batch = client.fixtures_by_ids(ids)

    assert len(batch.failures) == 1
    error = batch.failures[0].error
    assert isinstance(error, MissingFixturesError)
    assert error.missing_ids == (ids[3],)
    assert str(ids[3]) in str(error)
    assert sorted(fixture.id for fixture in batch.fixtures) == sorted(ids[20:])


def test_ids_extra_and_repeated_items_dropped(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    first, second, unrequested = bundesliga_items[:3]
    body = envelope("fixtures", {"ids": "x"}, [first, second, first, unrequested])
    bundesliga_server.inject_fault(StatusFault(status=200, body=body))
    client = make_api_client(bundesliga_server)

    batch = client.fixtures_by_ids(ids_of([first, second]))

    assert [fixture.id for fixture in batch.fixtures] == ids_of([first, second])
    assert batch.failures == []


def test_date_sends_filters_and_utc(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    day = bundesliga_items[0]["fixture"]["date"][:10]
    expected = sorted(item["fixture"]["id"] for item in bundesliga_items if item["fixture"]["date"].startswith(day))
    client = make_api_client(bundesliga_server)

    page = client.fixtures_by_date(day, league=78, season=2023)

    assert bundesliga_server.requests[0].params == {
        "date": day,
        "league": "78",
        "season": "2023",
        "timezone": "UTC",
    }
    assert sorted(fixture.id for fixture in page.fixtures) == expected
    assert all(fixture.events is None for fixture in page.fixtures)
    assert page.requests == 1


def test_date_other_league_is_empty(
    bundesliga_server: ReplayServer, bundesliga_items: list[dict[str, Any]], make_api_client: MakeApiClient
) -> None:
    day = bundesliga_items[0]["fixture"]["date"][:10]
    client = make_api_client(bundesliga_server)

    page = client.fixtures_by_date(day, league=39)

    assert page.fixtures == []


@pytest.mark.parametrize("bad_date", ["2024-5-25", "25/05/2024", "2024-02-30", "", "2024-05-25T00:00"])
def test_date_invalid_raises_value_error(
    bundesliga_server: ReplayServer, make_api_client: MakeApiClient, bad_date: str
) -> None:
    client = make_api_client(bundesliga_server)

    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        client.fixtures_by_date(bad_date)


def test_date_invalid_filter_raises_value_error(
    bundesliga_server: ReplayServer, make_api_client: MakeApiClient
) -> None:
    client = make_api_client(bundesliga_server)

    with pytest.raises(ValueError, match="league 0 is invalid"):
        client.fixtures_by_date("2024-05-25", league=0)
    with pytest.raises(ValueError, match="timezone"):
        client.fixtures_by_date("2024-05-25", timezone="Europe/ London")


def test_account_status_reads_subscription(bundesliga_server: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(bundesliga_server)

    status = client.account_status()

    assert status.plan == "Pro"
    assert status.active is True
    assert status.daily_limit == 7500
    assert status.requests_today == 0
    assert status.subscription_end is not None
    assert status.quota is not None
    assert status.quota.day_limit == 7500
    assert bundesliga_server.requests[0].path == "/status"


def test_client_context_manager_closes(bundesliga_server: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(bundesliga_server)

    with client:
        client.account_status()

    with pytest.raises(RuntimeError):
        client.account_status()
