"""Parsing is tolerant per fixture: a malformed fixture is logged and skipped, the rest is used."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from fixture_assets.football_api import MissingFixturesError, parsing
from fixture_assets.replay import StatusFault
from fixture_assets.replay.envelopes import envelope
from fixture_assets_tests.replay_fixtures import MakeApiClient, StartReplayServer, fixture_item, one_poll_scenario


def goal_event(event_type: str = "Goal") -> dict[str, Any]:
    return {
        "time": {"elapsed": 12, "extra": None},
        "team": {"id": 1, "name": "Home"},
        "player": {"id": 10, "name": "A. Scorer"},
        "assist": {"id": None, "name": None},
        "type": event_type,
        "detail": "Normal Goal",
        "comments": None,
    }


@pytest.fixture(autouse=True)
def forget_reported_codes() -> None:
    # Unknown codes are logged once per process, so each test clears the record first.
    parsing._reported_codes.clear()


def test_ids_malformed_fixture_skipped(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    broken = fixture_item(702)
    broken["teams"]["home"] = "Home"
    server = start_replay_server(one_poll_scenario([fixture_item(701), broken, fixture_item(703)]))
    client = make_api_client(server)

    with caplog.at_level(logging.WARNING):
        batch = client.fixtures_by_ids([701, 702, 703])

    assert [fixture.id for fixture in batch.fixtures] == [701, 703]
    assert [rejection.fixture_id for rejection in batch.rejected] == [702]
    assert "teams.home" in batch.rejected[0].reason
    assert batch.failures == []
    assert "skipped fixture 702" in caplog.text


def test_ids_item_without_id_fails_chunk(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient
) -> None:
    # An item whose id cannot be read may be the requested fixture, so that fixture counts as missing.
    nameless = fixture_item(802)
    del nameless["fixture"]["id"]
    server = start_replay_server(one_poll_scenario([fixture_item(801)]))
    body = envelope("fixtures", {"ids": "801-802"}, [fixture_item(801), nameless])
    server.inject_fault(StatusFault(status=200, body=body))
    client = make_api_client(server)

    batch = client.fixtures_by_ids([801, 802])

    assert batch.fixtures == []
    assert isinstance(batch.failures[0].error, MissingFixturesError)
    assert batch.failures[0].error.missing_ids == (802,)


def test_date_malformed_fixture_skipped(start_replay_server: StartReplayServer, make_api_client: MakeApiClient) -> None:
    broken = fixture_item(902)
    broken["fixture"]["date"] = "yesterday"
    server = start_replay_server(one_poll_scenario([fixture_item(901), fixture_item(903)]))
    server.source.polls[0].body["response"].append(broken)
    client = make_api_client(server)

    page = client.fixtures_by_date("2024-03-01")

    assert [fixture.id for fixture in page.fixtures] == [901, 903]


def test_unknown_status_and_event_kept_logged_once(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    odd_items = [
        fixture_item(fixture_id, status="XYZ", events=[goal_event("Shot On Target"), goal_event()])
        for fixture_id in (1001, 1002)
    ]
    server = start_replay_server(one_poll_scenario(odd_items))
    client = make_api_client(server)

    with caplog.at_level(logging.WARNING, logger="fixture_assets.football_api.parsing"):
        first = client.fixtures_by_ids([1001, 1002])
        client.fixtures_by_ids([1001, 1002])

    assert first.fixtures[0].status.short == "XYZ"
    assert first.fixtures[0].events is not None
    assert [event.type for event in first.fixtures[0].events] == ["Shot On Target", "Goal"]
    messages = [record.getMessage() for record in caplog.records]
    assert sum("unknown status code 'XYZ'" in message for message in messages) == 1
    assert sum("unknown event type 'Shot On Target'" in message for message in messages) == 1
