"""Every recorded API-Football sample parses with the client's models, read in place from the shared folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixture_assets.core.parse import parse_events, parse_fixtures
from fixture_assets.football_api import RequestParameterError
from fixture_assets.football_api.responses import decode_envelope
from fixture_assets.replay import ReplayServer, StatusFault
from fixture_assets_tests.replay_fixtures import MakeApiClient, StartReplayServer, one_poll_scenario

FIXTURE_ENVELOPES = [
    "date-2024-05-25-1183-fixtures.json",
    "ids-2024-03-13-cl-two-penalty-shootouts.json",
    "league78-season2023-status-NS-PST.json",
    "live-all-2021-04-21-55-fixtures.json",
    "live-all-2024-02-19-8-fixtures-var-offside.json",
    "live-all-2024-05-11-246-fixtures.json",
    "live-all-2024-07-30-82-fixtures.json",
]
ERROR_ENVELOPES = ["error-http200-incompatible-parameters.json", "error-http200-required-parameter.json"]


def load_sample(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "api-football-samples" / name).read_text(encoding="utf-8"))


@pytest.fixture
def server(start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(one_poll_scenario([]))


def test_every_sample_is_covered(shared_dir: Path) -> None:
    listed = set(FIXTURE_ENVELOPES) | set(ERROR_ENVELOPES)
    listed |= {"events-fixture-653808.json", "live-response-array-2021-04-22-15-fixtures-with-added-odds.json"}

    on_disk = {path.name for path in (shared_dir / "api-football-samples").glob("*.json")}

    assert on_disk == listed


@pytest.mark.parametrize("name", FIXTURE_ENVELOPES)
def test_fixture_envelope_parses_over_socket(
    shared_dir: Path, server: ReplayServer, make_api_client: MakeApiClient, name: str
) -> None:
    sample = load_sample(shared_dir, name)
    server.inject_fault(StatusFault(status=200, body=sample))
    client = make_api_client(server)

    page = client.fixtures_by_date("2024-05-25")

    assert page.rejected == []
    assert len(page.fixtures) == sample["results"]
    assert len({fixture.id for fixture in page.fixtures}) == sample["results"]


@pytest.mark.parametrize("name", ERROR_ENVELOPES)
def test_error_envelope_raises_parameter_error(
    shared_dir: Path, server: ReplayServer, make_api_client: MakeApiClient, name: str
) -> None:
    sample = load_sample(shared_dir, name)
    server.inject_fault(StatusFault(status=200, body=sample))
    client = make_api_client(server)

    with pytest.raises(RequestParameterError) as caught:
        client.fixtures_by_date("2024-05-25")

    assert caught.value.status_code == 200
    assert next(iter(sample["errors"].values())) in str(caught.value)
    assert len(server.requests) == 1


def test_events_envelope_parses(shared_dir: Path) -> None:
    sample = load_sample(shared_dir, "events-fixture-653808.json")

    body = decode_envelope(200, json.dumps(sample).encode(), path="/fixtures/events", params={}, quota=None)
    events = parse_events(body["response"], fixture_id=653808)

    assert len(events) == sample["results"]
    goals = [event for event in events if event.type == "Goal"]
    assert [(goal.elapsed, goal.player_name) for goal in goals] == [(50, "J. Stones"), (83, "Fernandinho")]
    assert all(goal.team_id == 50 for goal in goals)


def test_response_array_parses_despite_added_odds(shared_dir: Path) -> None:
    items = load_sample(shared_dir, "live-response-array-2021-04-22-15-fixtures-with-added-odds.json")

    parsed = parse_fixtures(items)

    assert parsed.rejected == []
    assert len(parsed.fixtures) == 15


def test_shootout_sample_keeps_kicks_as_events(shared_dir: Path) -> None:
    sample = load_sample(shared_dir, "ids-2024-03-13-cl-two-penalty-shootouts.json")

    parsed = parse_fixtures(sample["response"])

    atletico_inter = next(fixture for fixture in parsed.fixtures if fixture.id == 1149519)
    assert atletico_inter.status.short == "PEN"
    assert atletico_inter.score.penalty.home == 3
    assert atletico_inter.events is not None
    kicks = [event for event in atletico_inter.events if event.comments == "Penalty Shootout"]
    assert len(kicks) == 9
