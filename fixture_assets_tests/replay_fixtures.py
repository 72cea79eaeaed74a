"""Pytest fixtures that start replay servers and API clients pointed at them.

``conftest.py`` imports these, so every test can request them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from fixture_assets.football_api import ApiClientSettings, FootballApiClient
from fixture_assets.replay import DemoDaySource, ReplayServer, ReplaySource, ScenarioSource, VirtualClock
from fixture_assets.replay.envelopes import envelope, fixture_id

# A distinctive key, so that a test can search logs and messages for it.
TEST_API_KEY = "replay-test-key-7f3a9c"

# The demo day in tests starts here, so its kick-offs are fixed:
# the first one is at 12:03:00 UTC.
DEMO_STARTED_AT = datetime(2026, 5, 1, 12, 0, 10, tzinfo=UTC)

StartReplayServer = Callable[..., ReplayServer]
MakeApiClient = Callable[..., FootballApiClient]


@pytest.fixture
def start_replay_server() -> Iterator[StartReplayServer]:
    """Start a ReplayServer for a source. Every server started is stopped after the test.

    Without a ``clock`` the server gets a stopped clock (speed 0) at the
    source's initial time, so that a test moves time only with ``set``.
    """
    servers: list[ReplayServer] = []

    def start(source: ReplaySource, *, clock: VirtualClock | None = None, **options: Any) -> ReplayServer:
        clock = clock or VirtualClock(source.initial_time(), speed=0)
        server = ReplayServer(source, clock=clock, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_api_client() -> Iterator[MakeApiClient]:
    """Make a FootballApiClient for a replay server, with a short retry delay. It is closed after the test."""
    clients: list[FootballApiClient] = []

    def make(server: ReplayServer, **settings: Any) -> FootballApiClient:
        values: dict[str, Any] = {"base_url": server.url, "api_key": TEST_API_KEY, "retry_delay_s": 0.01}
        values.update(settings)
        client = FootballApiClient(ApiClientSettings(**values))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def demo_day() -> DemoDaySource:
    """The demo day started at ``DEMO_STARTED_AT``, 5 real seconds per match minute."""
    return DemoDaySource(started_at=DEMO_STARTED_AT)


@pytest.fixture
def demo_server(demo_day: DemoDaySource, start_replay_server: StartReplayServer) -> ReplayServer:
    return start_replay_server(demo_day)


# Quota headers with the names and values of a real API response.
RECORDED_QUOTA_HEADERS = {
    "x-ratelimit-requests-limit": "7500",
    "x-ratelimit-requests-remaining": "7390",
    "X-RateLimit-Limit": "300",
    "X-RateLimit-Remaining": "298",
}
POLL_AT = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def one_poll_scenario(
    items: list[dict[str, Any]],
    *,
    at: datetime = POLL_AT,
    headers: dict[str, str] | None = None,
) -> ScenarioSource:
    """A scenario whose single successful poll at ``at`` contains ``items``."""
    poll = {
        "at": at.isoformat(),
        "status": 200,
        "headers": RECORDED_QUOTA_HEADERS if headers is None else headers,
        "body": envelope("fixtures", {"ids": "-".join(str(fixture_id(item)) for item in items)}, items),
    }
    return ScenarioSource({"name": "one-poll", "polls": [poll]})


def fixture_item(fixture_id: int, status: str = "1H", events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A small valid fixture item in play on 2024-03-01, 1-0 to the home team."""
    return {
        "fixture": {"id": fixture_id, "date": "2024-03-01T11:00:00+00:00", "status": {"short": status, "elapsed": 20}},
        "league": {"id": 39, "name": "Premier League", "season": 2023},
        "teams": {"home": {"id": 1, "name": "Home"}, "away": {"id": 2, "name": "Away"}},
        "goals": {"home": 1, "away": 0},
        "score": {"halftime": {"home": 1, "away": 0}},
        "events": events if events is not None else [],
    }
