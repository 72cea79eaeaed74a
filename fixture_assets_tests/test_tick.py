"""The poll tick and discovery with the real client, a replay server and SecantusDB."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from fixture_assets.discovery import DiscoveryFilter, discover_match_date
from fixture_assets.observe import PollSettings
from fixture_assets.poller_state import PollerState
from fixture_assets.replay import ErrorsFault, MissingIdFault, ScenarioSource, StatusFault
from fixture_assets.replay.envelopes import envelope
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.fixtures import FixtureStore
from fixture_assets.tick import PollFailedError, run_tick

from .replay_fixtures import fixture_item

KICKOFF = datetime(2024, 3, 1, 11, 0, tzinfo=UTC)
NOW = KICKOFF + timedelta(minutes=20)


def goal_event(minute: int, team: int = 1) -> dict:
    return {"time": {"elapsed": minute, "extra": None}, "team": {"id": team, "name": "Home"},
            "player": {"id": 50 + minute, "name": f"Scorer {minute}"}, "assist": {"id": None, "name": None},
            "type": "Goal", "detail": "Normal Goal", "comments": None}


def scenario(fixture_ids: list[int], at: datetime = NOW) -> ScenarioSource:
    items = [fixture_item(fixture_id, events=[goal_event(10)]) for fixture_id in fixture_ids]
    poll = {"at": at.isoformat(), "status": 200, "body": envelope("fixtures", {}, items)}
    return ScenarioSource({"name": "tick", "polls": [poll]})


@pytest.fixture
def setup(mongo_db, start_replay_server, make_api_client):
    def build(fixture_ids: list[int]):
        server = start_replay_server(scenario(fixture_ids))
        client = make_api_client(server)
        store = FixtureStore(mongo_db)
        discover_match_date(store, client, "2024-03-01", DiscoveryFilter(), PollSettings(), NOW)
        server.clear_requests()
        return server, client, store

    return build


def test_quota_exhaustion_pauses_until_midnight(setup, caplog):
    server, client, store = setup([1, 2])
    state = PollerState()
    server.inject_fault(ErrorsFault(errors={"requests": "You have reached the request limit for the day"}))

    with caplog.at_level(logging.INFO):
        exhausted = run_tick(store, client, state, PollSettings(), NOW)
        paused = [run_tick(store, client, state, PollSettings(), NOW + timedelta(minutes=m)) for m in range(1, 5)]
        resumed = run_tick(store, client, state, PollSettings(), datetime(2024, 3, 2, 0, 0, 30, tzinfo=UTC))

    pause_lines = [record for record in caplog.records if "polling pauses until" in record.getMessage()]
    assert exhausted.failures
    assert state.paused_until is None
    assert all("paused until 2024-03-02 00:00 UTC" in tick.skip_reason for tick in paused)
    assert len(pause_lines) == 1
    assert resumed.skip_reason is None
    assert len(server.requests) == 2


def test_missing_id_polled_alone_next(setup):
    server, client, store = setup([1, 2, 3])
    state = PollerState()
    server.inject_fault(MissingIdFault(fixture_ids=(2,)))

    run_tick(store, client, state, PollSettings(), NOW)
    server.clear_requests()
    run_tick(store, client, state, PollSettings(), NOW + timedelta(minutes=1))

    assert state.missing_ids == ()
    assert sorted(request.ids for request in server.requests) == [(1, 3), (2,)]


def test_repeated_fault_logged_once(setup, caplog):
    server, client, store = setup([1])
    state = PollerState()
    server.inject_fault(StatusFault(status=500), times=20)

    with caplog.at_level(logging.ERROR, logger="fixture_assets.tick"):
        for minute in range(5):
            run_tick(store, client, state, PollSettings(), NOW + timedelta(minutes=minute))

    assert len([record for record in caplog.records if "poll of fixtures 1 failed" in record.getMessage()]) == 1
    assert next(iter(state.faults.values())).count == 5


def test_bad_key_fails_the_tick(setup):
    server, client, store = setup([1])
    server.inject_fault(ErrorsFault(errors={"token": "Error/Missing application key."}))

    with pytest.raises(PollFailedError, match="token"):
        run_tick(store, client, PollerState(), PollSettings(), NOW)


def test_nothing_tracked_skips(mongo_db, start_replay_server, make_api_client):
    server = start_replay_server(scenario([1]))
    result = run_tick(FixtureStore(mongo_db), make_api_client(server), PollerState(), PollSettings(), NOW)

    assert result.skip_reason is not None
    assert "no fixture is live" in result.skip_reason
    assert server.requests == []


def test_discovery_of_old_date_records_without_posting(mongo_db, start_replay_server, make_api_client):
    later = NOW + timedelta(days=30)
    items = [fixture_item(fixture_id, status="FT", events=[goal_event(10)]) for fixture_id in range(1, 46)]
    poll = {"at": later.isoformat(), "status": 200, "body": envelope("fixtures", {}, items)}
    server = start_replay_server(ScenarioSource({"name": "backfill", "polls": [poll]}))
    store = FixtureStore(mongo_db)

    result = discover_match_date(store, make_api_client(server), "2024-03-01", DiscoveryFilter(), PollSettings(), later)

    ids_requests = [request for request in server.requests if "ids" in request.params]
    assert len(result.skipped_notifications) == 45
    assert result.notifications == []
    assert mongo_db.completed_fixtures.count_documents({}) == 45
    assert sorted(len(request.ids) for request in ids_requests) == [5, 20, 20]
    assert mongo_db[NOTIFICATIONS].count_documents({"state": "skipped"}) == 45


def test_discovery_filter_keeps_configured(mongo_db, start_replay_server, make_api_client):
    server = start_replay_server(scenario([1, 2]))
    store = FixtureStore(mongo_db)

    result = discover_match_date(
        store, make_api_client(server), "2024-03-01", DiscoveryFilter(league_ids=frozenset({999})), PollSettings(), NOW
    )

    assert result.seen == 0
    assert mongo_db.live_fixtures.count_documents({}) == 0


def test_long_missing_id_polled_rarely(setup):
    server, client, store = setup([1, 2])
    state = PollerState()
    server.inject_fault(MissingIdFault(fixture_ids=(2,)), times=100)

    requests_for_missing = []
    for minute in range(60):
        server.clear_requests()
        run_tick(store, client, state, PollSettings(), NOW + timedelta(minutes=minute))
        requests_for_missing.append(sum(1 for request in server.requests if request.ids == (2,)))

    assert all(count == 1 for count in requests_for_missing[1:31])
    assert sum(requests_for_missing[32:]) <= 3
    assert 2 in state.missing_since
