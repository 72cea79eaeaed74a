"""A recorded finished fixture replayed live: what a client sees at given match minutes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixture_assets.core.models import Fixture
from fixture_assets.football_api import FootballApiClient
from fixture_assets.replay import RecordedMatchSource, ReplayInputError, ReplayServer
from fixture_assets.replay.recorded_source import recorded_plan
from fixture_assets_tests.replay_fixtures import DEMO_STARTED_AT, MakeApiClient, StartReplayServer

SAMPLE = "ids-2024-03-13-cl-two-penalty-shootouts.json"
ATLETICO_INTER = 1149519
ARSENAL_PORTO = 1149523


@pytest.fixture
def sample_path(shared_dir: Path) -> Path:
    return shared_dir / "api-football-samples" / SAMPLE


@pytest.fixture
def recording(sample_path: Path) -> RecordedMatchSource:
    return RecordedMatchSource.from_file(sample_path, started_at=DEMO_STARTED_AT)


@pytest.fixture
def server(recording: RecordedMatchSource, start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(recording)


@pytest.fixture
def client(server: ReplayServer, make_api_client: MakeApiClient) -> FootballApiClient:
    return make_api_client(server)


def seen_at(server: ReplayServer, client: FootballApiClient, moment: datetime, fixture_id: int) -> Fixture:
    server.clock.set(moment)
    batch = client.fixtures_by_ids([fixture_id])
    assert batch.failures == []
    return batch.fixtures[0]


def score_of(fixture: Fixture) -> tuple[int | None, int | None]:
    return fixture.goals.home, fixture.goals.away


def test_kickoffs_are_real_times_after_start(recording: RecordedMatchSource) -> None:
    assert recording.fixture(ATLETICO_INTER).kickoff == datetime(2026, 5, 1, 12, 3, tzinfo=UTC)
    assert recording.fixture(ARSENAL_PORTO).kickoff == datetime(2026, 5, 1, 12, 4, tzinfo=UTC)


def test_plan_derived_from_recording(sample_path: Path) -> None:
    items = {item["fixture"]["id"]: item for item in json.loads(sample_path.read_text())["response"]}

    atletico = recorded_plan(items[ATLETICO_INTER])
    arsenal = recorded_plan(items[ARSENAL_PORTO])

    assert atletico.extra_time is True
    assert atletico.shootout_kicks == 9
    assert atletico.extra_time_first_stoppage == 2
    assert arsenal.second_half_stoppage == 7
    assert arsenal.shootout_kicks == 8


def test_goals_revealed_minute_by_minute(
    server: ReplayServer, recording: RecordedMatchSource, client: FootballApiClient
) -> None:
    script = recording.fixture(ATLETICO_INTER)

    at_32 = seen_at(server, client, script.time_at(32), ATLETICO_INTER)
    at_33 = seen_at(server, client, script.time_at(33), ATLETICO_INTER)
    at_35 = seen_at(server, client, script.time_at(35), ATLETICO_INTER)
    at_87 = seen_at(server, client, script.time_at(87), ATLETICO_INTER)

    assert (at_32.status.short, at_32.status.elapsed, score_of(at_32)) == ("1H", 32, (0, 0))
    assert score_of(at_33) == (0, 1)
    assert [(event.elapsed, event.player_name) for event in at_33.events or ()] == [(33, "F. Dimarco")]
    assert score_of(at_35) == (1, 1)
    assert (at_87.status.short, score_of(at_87)) == ("2H", (2, 1))


def test_late_events_and_stoppage(
    server: ReplayServer, recording: RecordedMatchSource, client: FootballApiClient
) -> None:
    script = recording.fixture(ARSENAL_PORTO)

    before = seen_at(server, client, script.time_at(90, 6), ARSENAL_PORTO)
    after = seen_at(server, client, script.time_at(90, 7), ARSENAL_PORTO)

    assert (after.status.short, after.status.elapsed, after.status.extra) == ("2H", 90, 7)
    assert len(after.events or ()) == len(before.events or ()) + 1
    assert score_of(after) == (1, 0)


def test_extra_time_and_shootout(
    server: ReplayServer, recording: RecordedMatchSource, client: FootballApiClient
) -> None:
    script = recording.fixture(ATLETICO_INTER)

    extra_time = seen_at(server, client, script.time_at(95), ATLETICO_INTER)
    shootout = seen_at(server, client, script.time_at_status("P"), ATLETICO_INTER)
    after_four = seen_at(server, client, script.time_at_kick(4), ATLETICO_INTER)

    assert (extra_time.status.short, extra_time.status.elapsed) == ("ET", 95)
    assert (extra_time.score.fulltime.home, extra_time.score.fulltime.away) == (2, 1)
    assert (extra_time.score.extratime.home, extra_time.score.extratime.away) == (0, 0)
    assert (shootout.status.short, shootout.score.penalty.home, shootout.score.penalty.away) == ("P", 0, 0)
    # Kicks 1-4: Calhanoglu scores, Depay scores, Sanchez misses, Saul misses.
    assert (after_four.score.penalty.home, after_four.score.penalty.away) == (1, 1)
    assert score_of(after_four) == (2, 1)


def test_final_state_is_the_recording(
    server: ReplayServer, recording: RecordedMatchSource, client: FootballApiClient, sample_path: Path
) -> None:
    recorded = next(
        item for item in json.loads(sample_path.read_text())["response"] if item["fixture"]["id"] == ATLETICO_INTER
    )
    script = recording.fixture(ATLETICO_INTER)

    final = seen_at(server, client, script.time_at_status("PEN"), ATLETICO_INTER)

    assert final.status.short == "PEN"
    assert score_of(final) == (2, 1)
    assert (final.score.penalty.home, final.score.penalty.away) == (3, 2)
    assert len(final.events or ()) == len(recorded["events"])
    assert final.kickoff == script.kickoff


def test_live_responses_drop_full_match_blocks(server: ReplayServer, recording: RecordedMatchSource) -> None:
    server.clock.set(recording.fixture(ATLETICO_INTER).time_at(40))

    item = httpx.get(f"{server.url}/fixtures", params={"ids": str(ATLETICO_INTER)}).json()["response"][0]

    assert "lineups" in item
    assert "statistics" not in item
    assert "players" not in item


def write_recording(tmp_path: Path, items: list[dict[str, Any]]) -> Path:
    path = tmp_path / "recording.json"
    path.write_text(json.dumps({"response": items}))
    return path


def test_unfinished_fixture_rejected(sample_path: Path, tmp_path: Path) -> None:
    item = json.loads(sample_path.read_text())["response"][0]
    item["fixture"]["status"]["short"] = "2H"

    with pytest.raises(ReplayInputError, match="status '2H'.*only finished fixtures"):
        RecordedMatchSource.from_file(write_recording(tmp_path, [item]))


def test_fixture_without_events_rejected(sample_path: Path, tmp_path: Path) -> None:
    item = json.loads(sample_path.read_text())["response"][0]
    del item["events"]

    with pytest.raises(ReplayInputError, match="events"):
        RecordedMatchSource.from_file(write_recording(tmp_path, [item]))


def test_empty_or_unreadable_recording_rejected(tmp_path: Path) -> None:
    with pytest.raises(ReplayInputError, match="no fixtures"):
        RecordedMatchSource.from_file(write_recording(tmp_path, []))
    with pytest.raises(ReplayInputError, match="cannot read"):
        RecordedMatchSource.from_file(tmp_path / "absent.json")
