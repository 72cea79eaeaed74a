"""One poll tick: load the tracked fixtures, fetch them, diff, write, decide.

The Dagster minute sensor and the replay runner both call ``run_tick``. A
failed request is no observation: its fixtures keep their stored state, so a
failed poll never withdraws a goal.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fixture_assets.core.goals import GoalNotification
from fixture_assets.core.observation import FixtureUpdate
from fixture_assets.core.status import StatusClass
from fixture_assets.fetching import fetch_while_loading, still_missing
from fixture_assets.football_api import ChunkFailure, ErrorAction, FootballApiClient, Quota
from fixture_assets.observe import PollSettings, log_notifications, observe_fixtures
from fixture_assets.poller_state import PollerState, next_utc_midnight, resting_missing_ids
from fixture_assets.store.fixtures import FixtureStore, LoadedFixtures, StepHook, TrackingWindow

logger = logging.getLogger(__name__)

# A fixture that the API has left out of its answers for this long is polled
# once every _MISSING_BACKOFF_EVERY_MINUTES instead of every minute.
_MISSING_BACKOFF_AFTER = timedelta(minutes=30)
_MISSING_BACKOFF_EVERY_MINUTES = 15


class PollFailedError(RuntimeError):
    """The API rejected the poll in a way that retrying cannot fix (key or plan)."""


@dataclass(slots=True)
class TickResult:
    now: datetime
    state: PollerState
    # Why the tick sent no request, or None when it polled.
    skip_reason: str | None = None
    tracked: int = 0
    requests: int = 0
    quota: Quota | None = None
    updates: list[FixtureUpdate] = field(default_factory=list)
    notifications: list[GoalNotification] = field(default_factory=list)
    skipped_notifications: list[GoalNotification] = field(default_factory=list)
    failures: list[ChunkFailure] = field(default_factory=list)
    rejected: int = 0

    @property
    def changed(self) -> list[FixtureUpdate]:
        return [update for update in self.updates if update.changed and update.ignored_reason is None]

    def changed_partitions(self) -> dict[str, set[str]]:
        """Map each collection name to the match dates whose fixtures changed in it."""
        partitions: dict[str, set[str]] = defaultdict(set)
        for update in self.changed:
            partitions[update.collection.value].add(update.fixture.match_date)
            if update.moved and update.previous is not None:
                partitions[update.previous.collection.value].add(update.previous.kickoff.strftime("%Y-%m-%d"))
        return dict(partitions)


def run_tick(
    store: FixtureStore,
    client: FootballApiClient,
    state: PollerState,
    settings: PollSettings,
    now: datetime,
    *,
    log: logging.Logger | Any = logger,
    step_hook: StepHook | None = None,
) -> TickResult:
    """Run one poll tick at ``now`` and return what it changed and decided.

    Raises PollFailedError when the API rejects the key or the plan, after
    writing whatever other requests of the tick returned.
    """
    result = TickResult(now=now, state=state)
    if _paused(state, now, log):
        result.skip_reason = (
            f"polling is paused until {state.paused_until:%Y-%m-%d %H:%M} UTC because the API's daily quota is exhausted"
        )
        return result

    window = _window(settings, now)
    resting = resting_missing_ids(state, now, after=_MISSING_BACKOFF_AFTER, every_minutes=_MISSING_BACKOFF_EVERY_MINUTES)
    loaded, batch = fetch_while_loading(
        client, lambda: store.load_tracked(window), state.expected_ids, state.missing_ids, resting
    )
    result.tracked = len(loaded.by_id)
    if not loaded.by_id:
        state.expected_ids = ()
        result.requests = batch.requests
        result.skip_reason = "no fixture is live, kicking off within a minute, or due for its staged refresh"
        return result

    state.missing_ids = still_missing(batch, state.missing_ids)
    state.missing_since = {
        fixture_id: state.missing_since.get(fixture_id, now.isoformat()) for fixture_id in state.missing_ids
    }
    result.requests, result.quota, result.failures = batch.requests, batch.quota, batch.failures
    # The client has logged each rejected fixture with its id.
    result.rejected = len(batch.rejected)
    fatal = _handle_failures(batch.failures, state, now, log)

    observed = observe_fixtures(loaded.by_id, batch.fixtures, settings, now, log)
    store.write(
        observed.writes,
        observed.notification_writes,
        now,
        stale_copies=loaded.stale_copies,
        step_hook=step_hook,
    )
    log_notifications(observed, log)
    state.expected_ids = _expected_next(loaded, observed.updates, window)

    result.updates = observed.updates
    result.notifications = observed.notifications
    result.skipped_notifications = observed.skipped_notifications
    if fatal is not None:
        raise PollFailedError(str(fatal.error)) from fatal.error
    return result


def _window(settings: PollSettings, now: datetime) -> TrackingWindow:
    return TrackingWindow(
        now=now,
        kickoff_lead=timedelta(seconds=settings.kickoff_lead_seconds),
        staged_refresh=timedelta(minutes=settings.staged_refresh_minutes),
        staged_refresh_horizon=timedelta(hours=settings.staged_refresh_horizon_hours),
        completed_settle=timedelta(minutes=settings.completed_settle_minutes),
    )


def _paused(state: PollerState, now: datetime, log: logging.Logger | Any) -> bool:
    if state.paused_until is None:
        return False
    if now < state.paused_until:
        return True
    log.info(f"the daily quota pause ended at {state.paused_until.isoformat()}; polling resumes")
    state.paused_until = None
    return False


def _expected_next(loaded: LoadedFixtures, updates: list[FixtureUpdate], window: TrackingWindow) -> tuple[int, ...]:
    """Predict the fixtures the next tick tracks: live ones, staged ones about to kick off, unsettled completed ones."""
    collections = {fixture_id: stored.collection for fixture_id, stored in loaded.by_id.items()}
    unsettled = {update.fixture.id for update in updates if update.ignored_reason is None and not update.goals_settled}
    statuses = {fixture_id: stored.status for fixture_id, stored in loaded.by_id.items()}
    kickoffs = {fixture_id: stored.kickoff for fixture_id, stored in loaded.by_id.items()}
    for update in updates:
        if update.ignored_reason is None:
            collections[update.fixture.id] = update.collection
            statuses[update.fixture.id] = update.fixture.status.short
            kickoffs[update.fixture.id] = update.fixture.kickoff

    next_kickoff_limit = window.now + window.kickoff_lead + timedelta(minutes=1)
    return tuple(
        sorted(
            fixture_id
            for fixture_id, collection in collections.items()
            if collection is StatusClass.LIVE
            or (collection is StatusClass.COMPLETED and fixture_id in unsettled)
            or (collection is StatusClass.STAGED and statuses[fixture_id] == "NS" and kickoffs[fixture_id] <= next_kickoff_limit)
        )
    )


def _handle_failures(
    failures: list[ChunkFailure], state: PollerState, now: datetime, log: logging.Logger | Any
) -> ChunkFailure | None:
    """Log each failed request once per fault, pause on quota exhaustion, return a fatal one."""
    seen: set[str] = set()
    fatal: ChunkFailure | None = None
    for failure in failures:
        action = failure.error.action
        ids = ", ".join(str(fixture_id) for fixture_id in failure.ids)
        key = f"api:{type(failure.error).__name__} for fixtures {ids}"
        seen.add(key)

        if action is ErrorAction.PAUSE_UNTIL_MIDNIGHT_UTC:
            if state.paused_until is None:
                state.paused_until = next_utc_midnight(now)
                log.error(
                    f"{failure.error} Fixtures {ids} keep their stored state; polling pauses until "
                    f"{state.paused_until.isoformat()}."
                )
            continue

        next_step = "the tick fails until the key or plan is fixed" if action is ErrorAction.FAIL else "the next tick retries"
        state.record_fault(key, f"poll of fixtures {ids} failed: {failure.error} These fixtures keep their stored state; {next_step}.", now, log)
        if action is ErrorAction.FAIL:
            fatal = fatal or failure

    state.clear_faults("api:", seen, log)
    return fatal
