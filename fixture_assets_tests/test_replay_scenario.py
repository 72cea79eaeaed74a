"""Scenario replay: each poll served at its virtual time, filtered or exactly as recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixture_assets.football_api import (
    AuthenticationError,
    DailyQuotaExhaustedError,
    FootballApiError,
    MissingFixturesError,
    RateLimitError,
    ServerError,
)
from fixture_assets.replay import ReplayInputError, ReplayServer, ScenarioSource
from fixture_assets.replay.scenario_source import RecordedPoll
from fixture_assets_tests.conftest import scenario_files
from fixture_assets_tests.replay_fixtures import MakeApiClient, StartReplayServer


def expected_error(poll: RecordedPoll) -> type[FootballApiError] | None:
    """The error the client must raise for a recorded poll, or None for a success."""
    if poll.succeeded:
        return None
    if poll.status == 429:
        return RateLimitError
    errors = poll.body.get("errors") if isinstance(poll.body, dict) else None
    if poll.status == 200 and isinstance(errors, dict):
        if "token" in errors or "plan" in errors:
            return AuthenticationError
        if "requests" in errors:
            return DailyQuotaExhaustedError
        if "rateLimit" in errors:
            return RateLimitError
    return ServerError


def polled_ids(scenario: ScenarioSource) -> list[int]:
    for poll in scenario.polls:
        parameters = poll.body.get("parameters") if isinstance(poll.body, dict) else None
        if isinstance(parameters, dict) and "ids" in parameters:
            return [int(part) for part in parameters["ids"].split("-")]
    raise AssertionError(f"scenario {scenario.name} records no ids= request")


@pytest.fixture
def tc20(shared_dir: Path, start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(ScenarioSource.from_file(shared_dir / "scenarios" / "tc20-non-200-responses.json"))


@pytest.mark.parametrize("path", scenario_files(), ids=lambda path: path.stem)
def test_every_poll_replays_to_client(
    shared_dir: Path, start_replay_server: StartReplayServer, make_api_client: MakeApiClient, path: Path
) -> None:
    scenario = ScenarioSource.from_file(path)
    server = start_replay_server(scenario)
    client = make_api_client(server)
    ids = polled_ids(scenario)

    for poll in scenario.polls:
        server.clock.set(poll.at)
        batch = client.fixtures_by_ids(ids)

        error_class = expected_error(poll)
        if error_class is None:
            assert batch.failures == [], f"{poll.at}: {batch.failures}"
            assert sorted(fixture.id for fixture in batch.fixtures) == sorted(ids)
        else:
            assert len(batch.failures) == 1
            assert type(batch.failures[0].error) is error_class, f"{poll.at}: {batch.failures[0].error}"


def test_ids_filtered_with_fixed_envelope(shared_dir: Path, start_replay_server: StartReplayServer) -> None:
    scenario = ScenarioSource.from_file(shared_dir / "scenarios" / "tc19-http200-with-errors.json")
    server = start_replay_server(scenario)
    server.clock.set(scenario.polls[0].at)

    response = httpx.get(f"{server.url}/fixtures", params={"ids": "1541209"})

    body = response.json()
    assert response.status_code == 200
    assert body["parameters"] == {"ids": "1541209"}
    assert body["results"] == 1
    assert [item["fixture"]["id"] for item in body["response"]] == [1541209]
    assert response.headers["x-ratelimit-requests-remaining"] == "9"


def test_failed_poll_served_as_recorded(tc20: ReplayServer) -> None:
    source: Any = tc20.source
    polls = source.polls

    responses = []
    for poll in polls[1:5]:
        tc20.clock.set(poll.at + timedelta(seconds=20))
        responses.append(httpx.get(f"{tc20.url}/fixtures", params={"ids": "1539415"}))

    assert [response.status_code for response in responses] == [499, 200, 500, 204]
    assert responses[0].json() == polls[1].body
    assert responses[2].json() == polls[3].body
    # HTTP forbids a body in a 204 response, so the recorded one is not sent.
    assert responses[3].content == b""


def test_rate_limited_poll_keeps_partial_body(tc20: ReplayServer) -> None:
    poll = tc20.source.polls[6]  # type: ignore[attr-defined]
    tc20.clock.set(poll.at)

    response = httpx.get(f"{tc20.url}/fixtures", params={"ids": "1539415"})

    assert response.status_code == 429
    assert response.json() == {"errors": {"rateLimit": "Too many requests"}, "response": [], "results": 0}


def test_last_poll_not_after_now_is_used(tc20: ReplayServer, make_api_client: MakeApiClient) -> None:
    polls = tc20.source.polls  # type: ignore[attr-defined]
    client = make_api_client(tc20)

    tc20.clock.set(polls[2].at - timedelta(microseconds=1))
    during_499 = client.fixtures_by_ids([1539415])
    tc20.clock.set(polls[2].at)
    at_success = client.fixtures_by_ids([1539415])

    assert isinstance(during_499.failures[0].error, ServerError)
    assert at_success.fixtures[0].status.elapsed == 22


def test_before_first_poll_nothing_found(tc20: ReplayServer, make_api_client: MakeApiClient) -> None:
    tc20.clock.set(tc20.source.polls[0].at - timedelta(minutes=1))  # type: ignore[attr-defined]
    client = make_api_client(tc20)

    batch = client.fixtures_by_ids([1539415])

    assert isinstance(batch.failures[0].error, MissingFixturesError)


def test_unknown_id_is_missing(tc20: ReplayServer, make_api_client: MakeApiClient) -> None:
    client = make_api_client(tc20)

    batch = client.fixtures_by_ids([1539415, 42])

    error = batch.failures[0].error
    assert isinstance(error, MissingFixturesError)
    assert error.missing_ids == (42,)


def test_date_uses_first_success_without_events(tc20: ReplayServer, make_api_client: MakeApiClient) -> None:
    tc20.clock.set(tc20.source.polls[-1].at)  # type: ignore[attr-defined]
    client = make_api_client(tc20)

    page = client.fixtures_by_date("2026-09-19")
    other_day = client.fixtures_by_date("2026-09-20")

    assert [fixture.id for fixture in page.fixtures] == [1539415]
    assert page.fixtures[0].events is None
    assert page.fixtures[0].status.elapsed == 20
    assert other_day.fixtures == []


def test_date_uses_discovery_when_present(
    shared_dir: Path, start_replay_server: StartReplayServer, make_api_client: MakeApiClient
) -> None:
    scenario = json.loads((shared_dir / "scenarios" / "tc01-var-cancel-with-var-event.json").read_text())
    item = scenario["polls"][0]["body"]["response"][0]
    discovered = {**item, "fixture": {**item["fixture"], "status": {"short": "NS", "long": "Not Started"}}}
    scenario["discovery"] = {
        "get": "fixtures", "parameters": {"date": item["fixture"]["date"][:10]}, "errors": [],
        "results": 1, "paging": {"current": 1, "total": 1}, "response": [discovered],
    }
    server = start_replay_server(ScenarioSource(scenario))
    client = make_api_client(server)

    page = client.fixtures_by_date(item["fixture"]["date"][:10])

    assert [fixture.status.short for fixture in page.fixtures] == ["NS"]


def test_date_in_other_timezone_shifts_date(tc20: ReplayServer) -> None:
    response = httpx.get(f"{tc20.url}/fixtures", params={"date": "2026-09-19", "timezone": "Europe/London"})

    item = response.json()["response"][0]
    assert item["fixture"]["timezone"] == "Europe/London"
    assert item["fixture"]["date"] == "2026-09-19T15:00:00+01:00"


def test_live_all_from_current_poll(tc20: ReplayServer) -> None:
    tc20.clock.set(tc20.source.polls[2].at)  # type: ignore[attr-defined]

    response = httpx.get(f"{tc20.url}/fixtures", params={"live": "all"})

    body = response.json()
    assert body["parameters"] == {"live": "all"}
    assert [item["fixture"]["id"] for item in body["response"]] == [1539415]
    assert body["response"][0]["events"]


def test_scenario_starts_at_first_poll(tc20: ReplayServer) -> None:
    assert tc20.source.initial_time() == tc20.source.polls[0].at  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"name": "empty", "polls": []}, "has no polls"),
        ({"name": "naive", "polls": [{"at": "2026-09-19T14:00:00", "status": 200, "body": {}}]}, "no UTC offset"),
        (
            {"name": "status", "polls": [{"at": "2026-09-19T14:00:00+00:00", "status": "200", "body": {}}]},
            "HTTP status",
        ),
        ({"name": "body", "polls": [{"at": "2026-09-19T14:00:00+00:00", "status": 200}]}, "has no body"),
    ],
)
def test_invalid_scenario_rejected(scenario: dict[str, Any], message: str) -> None:
    with pytest.raises(ReplayInputError, match=message):
        ScenarioSource(scenario)


def test_scenario_file_errors_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    with pytest.raises(ReplayInputError, match="not valid JSON"):
        ScenarioSource.from_file(broken)
    with pytest.raises(ReplayInputError, match="cannot read"):
        ScenarioSource.from_file(tmp_path / "absent.json")
