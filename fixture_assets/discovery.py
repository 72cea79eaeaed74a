"""Discovery of one match date, and the on-demand refresh of a date's fixtures.

Discovery requests ``GET /fixtures?date=`` once, keeps the configured leagues and
teams, and stores the fixtures. Fixtures already in play or finished are
fetched again with ``ids=`` (the only query that returns events), so their
goals are processed like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fixture_assets.core.goals import GoalNotification
from fixture_assets.core.models import Fixture
from fixture_assets.core.observation import FixtureUpdate, StoredFixture
from fixture_assets.core.status import StatusClass, status_class
from fixture_assets.football_api import ChunkFailure, FootballApiClient, Quota
from fixture_assets.observe import PollSettings, log_notifications, observe_fixtures
from fixture_assets.store.discoveries import record_discovery
from fixture_assets.store.fixtures import FixtureStore, LoadedFixtures, StepHook

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveryFilter:
    """Which fixtures to keep; with no league and no team configured, all of them."""

    league_ids: frozenset[int] = frozenset()
    team_ids: frozenset[int] = frozenset()

    def matches(self, fixture: Fixture) -> bool:
        if not self.league_ids and not self.team_ids:
            return True
        return (
            fixture.league.id in self.league_ids
            or fixture.home.id in self.team_ids
            or fixture.away.id in self.team_ids
        )


@dataclass(slots=True)
class FixtureBatchResult:
    """What a discovery or a refresh stored and decided."""

    match_date: str
    seen: int = 0
    requests: int = 0
    quota: Quota | None = None
    updates: list[FixtureUpdate] = field(default_factory=list)
    notifications: list[GoalNotification] = field(default_factory=list)
    skipped_notifications: list[GoalNotification] = field(default_factory=list)
    failures: list[ChunkFailure] = field(default_factory=list)
    rejected: int = 0

    @property
    def new_fixtures(self) -> list[FixtureUpdate]:
        return [update for update in self.updates if update.is_new and update.ignored_reason is None]

    @property
    def changed(self) -> list[FixtureUpdate]:
        return [update for update in self.updates if update.changed and update.ignored_reason is None]


def discover_match_date(
    store: FixtureStore,
    client: FootballApiClient,
    match_date: str,
    fixture_filter: DiscoveryFilter,
    settings: PollSettings,
    now: datetime,
    *,
    log: logging.Logger | Any = logger,
    step_hook: StepHook | None = None,
) -> FixtureBatchResult:
    """Discover and store the fixtures of ``match_date`` (UTC). Raises FootballApiError."""
    page = client.fixtures_by_date(match_date)
    # The client has logged each rejected fixture with its id.
    result = FixtureBatchResult(match_date, requests=page.requests, quota=page.quota, rejected=len(page.rejected))

    # The date query covers every league in one request; filtering here costs
    # no quota, while a request per configured league would.
    found = [fixture for fixture in page.fixtures if fixture_filter.matches(fixture)]
    result.seen = len(found)
    loaded = store.load_fixtures(fixture.id for fixture in found)

    from_date_query: list[Fixture] = []
    needs_events: list[Fixture] = []
    for fixture in found:
        stored = loaded.by_id.get(fixture.id)
        if _needs_ids_query(stored, fixture):
            needs_events.append(fixture)
        elif stored is None or stored.collection is StatusClass.STAGED:
            from_date_query.append(fixture)

    fetched = _fetch_with_events(client, needs_events, result, log)
    _observe_and_write(store, loaded, [*from_date_query, *fetched], result, settings, now, log, step_hook)
    record_discovery(store.database, match_date, now, result.seen)
    log.info(
        f"discovered {result.seen} fixtures for {match_date}: {len(result.new_fixtures)} new, "
        f"{len(result.changed)} changed, {len(result.notifications)} notifications due, {result.requests} API requests"
    )
    return result


def refresh_match_date(
    store: FixtureStore,
    client: FootballApiClient,
    match_date: str,
    settings: PollSettings,
    now: datetime,
    *,
    log: logging.Logger | Any = logger,
) -> FixtureBatchResult:
    """Poll every fixture of ``match_date`` that has kicked off and is not completed."""
    loaded = store.load_match_date(match_date, (StatusClass.STAGED, StatusClass.LIVE))
    due = [stored for stored in loaded.by_id.values() if stored.kickoff <= now]
    result = FixtureBatchResult(match_date, seen=len(due))
    if not due:
        return result

    batch = client.fixtures_by_ids([stored.fixture_id for stored in due])
    result.requests, result.quota, result.failures = batch.requests, batch.quota, batch.failures
    result.rejected = len(batch.rejected)
    _log_failures(match_date, batch.failures, log)
    _observe_and_write(store, loaded, batch.fixtures, result, settings, now, log, None)
    return result


def _needs_ids_query(stored: StoredFixture | None, fixture: Fixture) -> bool:
    received = status_class(fixture.status.short)
    if received is None or received is StatusClass.STAGED:
        return False
    if stored is None or stored.collection is StatusClass.STAGED:
        return True
    # The tick owns a live fixture. When the date query reports it finished,
    # the tick may have stopped, so discovery finishes it.
    return stored.collection is StatusClass.LIVE and received is StatusClass.COMPLETED


def _fetch_with_events(
    client: FootballApiClient, fixtures: Sequence[Fixture], result: FixtureBatchResult, log: logging.Logger | Any
) -> list[Fixture]:
    if not fixtures:
        return []
    batch = client.fixtures_by_ids([fixture.id for fixture in fixtures])
    result.requests += batch.requests
    result.quota = batch.quota or result.quota
    result.failures = batch.failures
    result.rejected += len(batch.rejected)
    _log_failures(result.match_date, batch.failures, log)

    # An in-play fixture whose events could not be fetched is stored from the
    # date query, and the next poll tick fetches its events and alerts its
    # goals. A finished one is not stored, because no tick polls a completed
    # fixture. The next discovery of the date retries it.
    fetched_ids = {fixture.id for fixture in batch.fixtures}
    fallback = [
        fixture
        for fixture in fixtures
        if fixture.id not in fetched_ids and status_class(fixture.status.short) is StatusClass.LIVE
    ]
    return [*batch.fixtures, *fallback]


def _observe_and_write(
    store: FixtureStore,
    loaded: LoadedFixtures,
    fixtures: Iterable[Fixture],
    result: FixtureBatchResult,
    settings: PollSettings,
    now: datetime,
    log: logging.Logger | Any,
    step_hook: StepHook | None,
) -> None:
    observed = observe_fixtures(loaded.by_id, fixtures, settings, now, log)
    store.write(observed.writes, observed.notification_writes, now, stale_copies=loaded.stale_copies, step_hook=step_hook)
    log_notifications(observed, log)
    result.updates = observed.updates
    result.notifications = observed.notifications
    result.skipped_notifications = observed.skipped_notifications


def _log_failures(match_date: str, failures: Sequence[ChunkFailure], log: logging.Logger | Any) -> None:
    for failure in failures:
        ids = ", ".join(str(fixture_id) for fixture_id in failure.ids)
        log.error(f"{match_date}: fetching fixtures {ids} failed: {failure.error} These fixtures keep their stored state.")
