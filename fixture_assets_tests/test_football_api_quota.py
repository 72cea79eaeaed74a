"""Quota headers: parsed from every response, returned with results, warned about when low."""

from __future__ import annotations

import logging

import httpx
import pytest

from fixture_assets.football_api import Quota, parse_quota
from fixture_assets.football_api.quota import LowQuotaWarning
from fixture_assets.replay import ReplayServer
from fixture_assets_tests.replay_fixtures import (
    RECORDED_QUOTA_HEADERS,
    MakeApiClient,
    StartReplayServer,
    one_poll_scenario,
)

ITEM = {
    "fixture": {"id": 501, "date": "2024-03-01T11:00:00+00:00", "status": {"short": "1H", "elapsed": 20}},
    "league": {"id": 39, "name": "Premier League", "season": 2023},
    "teams": {"home": {"id": 1, "name": "Home"}, "away": {"id": 2, "name": "Away"}},
    "goals": {"home": 0, "away": 0},
    "score": {},
    "events": [],
}


def quota_server(start_replay_server: StartReplayServer, day_remaining: str) -> ReplayServer:
    headers = {**RECORDED_QUOTA_HEADERS, "x-ratelimit-requests-remaining": day_remaining}
    return start_replay_server(one_poll_scenario([ITEM], headers=headers))


def test_parse_quota_reads_all_four_headers() -> None:
    headers = httpx.Headers(RECORDED_QUOTA_HEADERS)

    quota = parse_quota(headers)

    assert quota == Quota(day_remaining=7390, day_limit=7500, minute_remaining=298, minute_limit=300)


def test_parse_quota_ignores_header_case() -> None:
    headers = httpx.Headers({"X-RATELIMIT-REQUESTS-REMAINING": "12", "x-ratelimit-remaining": "3"})

    quota = parse_quota(headers)

    assert quota == Quota(day_remaining=12, minute_remaining=3)


def test_parse_quota_absent_is_none() -> None:
    assert parse_quota(httpx.Headers({"content-type": "application/json"})) is None


def test_parse_quota_bad_value_ignored(caplog: pytest.LogCaptureFixture) -> None:
    headers = httpx.Headers({"x-ratelimit-requests-remaining": "many", "X-RateLimit-Remaining": "5"})

    with caplog.at_level(logging.WARNING):
        quota = parse_quota(headers)

    assert quota == Quota(minute_remaining=5)
    assert "x-ratelimit-requests-remaining" in caplog.text


def test_ids_batch_returns_recorded_quota(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient
) -> None:
    server = quota_server(start_replay_server, "7390")
    client = make_api_client(server)

    batch = client.fixtures_by_ids([501])

    assert batch.quota == Quota(day_remaining=7390, day_limit=7500, minute_remaining=298, minute_limit=300)


def test_date_page_returns_simulated_quota(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient
) -> None:
    server = quota_server(start_replay_server, "7390")
    client = make_api_client(server)

    first = client.fixtures_by_date("2024-03-01")
    second = client.fixtures_by_date("2024-03-01")

    assert first.quota is not None
    assert second.quota is not None
    assert first.quota.day_limit == 7500
    assert second.quota.day_remaining == first.quota.day_remaining - 1


def test_low_quota_warned_once(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    server = quota_server(start_replay_server, "42")
    client = make_api_client(server, quota_warning_floor=100)

    with caplog.at_level(logging.WARNING, logger="fixture_assets.football_api.quota"):
        client.fixtures_by_ids([501])
        client.fixtures_by_ids([501])

    warnings = [record for record in caplog.records if "quota is low" in record.getMessage()]
    assert len(warnings) == 1
    assert "42 of 7500" in warnings[0].getMessage()


def test_quota_above_floor_not_warned(
    start_replay_server: StartReplayServer, make_api_client: MakeApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    server = quota_server(start_replay_server, "100")
    client = make_api_client(server, quota_warning_floor=100)

    with caplog.at_level(logging.WARNING):
        client.fixtures_by_ids([501])

    assert "quota is low" not in caplog.text


def test_low_quota_warning_rearmed_after_reset(caplog: pytest.LogCaptureFixture) -> None:
    warning = LowQuotaWarning(floor=10)

    with caplog.at_level(logging.WARNING):
        warning.observe(Quota(day_remaining=5))
        warning.observe(Quota(day_remaining=4))
        warning.observe(Quota(day_remaining=7500))
        warning.observe(Quota(day_remaining=3))
        warning.observe(None)
        warning.observe(Quota(minute_remaining=1))

    assert caplog.text.count("quota is low") == 2
