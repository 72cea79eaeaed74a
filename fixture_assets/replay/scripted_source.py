"""A replay source of scripted fixtures that play live on the server's clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from fixture_assets.replay.api_source import FixturesApiSource
from fixture_assets.replay.envelopes import DateQuery, select_live
from fixture_assets.replay.protocol import ApiResponse
from fixture_assets.replay.scripted_fixture import ScriptedFixture

# Real seconds per match minute: a 90-minute match with half-time takes about 9 real minutes.
DEFAULT_MINUTE_SECONDS = 5.0
# Real minutes from the server's start to the first kick-off.
DEFAULT_KICKOFF_DELAY_MINUTES = 2.0


class ScriptedDaySource(FixturesApiSource):
    """Serves scripted fixtures rendered at the virtual time of each request.

    The server's clock should follow real time (speed 1) from ``started_at``,
    because kick-offs are real times. The matches themselves run on each
    fixture's accelerated match clock.
    """

    def __init__(self, fixtures: Iterable[ScriptedFixture], *, started_at: datetime, description: str) -> None:
        super().__init__()
        self.started_at = started_at
        self.description = description
        self._fixtures = {fixture.id: fixture for fixture in fixtures}

    def initial_time(self) -> datetime:
        return self.started_at

    @property
    def fixture_ids(self) -> list[int]:
        return list(self._fixtures)

    def fixture(self, fixture_id: int) -> ScriptedFixture:
        try:
            return self._fixtures[fixture_id]
        except KeyError:
            raise KeyError(f"fixture {fixture_id} is not in {self.description}") from None

    def fixtures(self) -> list[ScriptedFixture]:
        return list(self._fixtures.values())

    def fixtures_by_ids(self, ids: list[int], params: Mapping[str, str], now: datetime) -> ApiResponse:
        items = [self._fixtures[fixture_id].render(now) for fixture_id in ids if fixture_id in self._fixtures]
        return self.ok(params, items, now)

    def fixtures_by_date(self, query: DateQuery, params: Mapping[str, str], now: datetime) -> ApiResponse:
        items = (fixture.render(now, with_events=False) for fixture in self._fixtures.values())
        return self.ok(params, query.select(items), now)

    def live_fixtures(self, leagues: frozenset[int] | None, params: Mapping[str, str], now: datetime) -> ApiResponse:
        items = [fixture.render(now) for fixture in self._fixtures.values()]
        return self.ok(params, select_live(items, leagues), now)
