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
from fixture_assets.football_api import (
    ChunkFailure,
    ErrorAction,
    FootballApiClient,
    IdsBatch,
    MissingFixturesError,
    Quota,
)
from fixture_assets.observe import PollSettings, log_notifications, observe_fixtures
from fixture_assets.poller_state import PollerState, next_utc_midnight
from fixture_assets.store.fixtures import FixtureStore, StepHook, TrackingWindow

logger = logging.getLogger(__name__)


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
    mongo_commands: int = 0

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

    loaded = store.load_tracked(_window(settings, now))
    result.tracked = len(loaded.by_id)
    if not loaded.by_id:
        result.skip_reason = "no fixture is live, kicking off within a minute, or due for its staged refresh"
        return result

    batch = _fetch(client, sorted(loaded.by_id), state)
    result.requests, result.quota, result.failures = batch.requests, batch.quota, batch.failures
    # The client has logged each rejected fixture with its id.
    result.rejected = len(batch.rejected)
    fatal = _handle_failures(batch.failures, state, now, log)

    requested = set(loaded.by_id)
    observed = observe_fixtures(loaded.by_id, (f for f in batch.fixtures if f.id in requested), settings, now, log)
    summary = store.write(
        observed.updates,
        observed.notification_writes,
        now,
        stale_copies=loaded.stale_copies,
        step_hook=step_hook,
    )
    log_notifications(observed, log)

    result.updates = observed.updates
    result.notifications = observed.notifications
    result.skipped_notifications = observed.skipped_notifications
    result.mongo_commands = 1 + summary.commands + (1 if summary.commands else 0)
    if fatal is not None:
        raise PollFailedError(str(fatal.error)) from fatal.error
    return result


def _window(settings: PollSettings, now: datetime) -> TrackingWindow:
    return TrackingWindow(
        now=now,
        kickoff_lead=timedelta(seconds=settings.kickoff_lead_seconds),
        staged_refresh=timedelta(minutes=settings.staged_refresh_minutes),
        staged_refresh_horizon=timedelta(hours=settings.staged_refresh_horizon_hours),
    )


def _paused(state: PollerState, now: datetime, log: logging.Logger | Any) -> bool:
    if state.paused_until is None:
        return False
    if now < state.paused_until:
        return True
    log.info(f"the daily quota pause ended at {state.paused_until.isoformat()}; polling resumes")
    state.paused_until = None
    return False


def _fetch(client: FootballApiClient, fixture_ids: list[int], state: PollerState) -> IdsBatch:
    """Fetch the fixtures, with the ids that a recent answer lacked in requests of their own."""
    previously_missing = set(state.missing_ids)
    isolated = [fixture_id for fixture_id in fixture_ids if fixture_id in previously_missing]
    regular = [fixture_id for fixture_id in fixture_ids if fixture_id not in previously_missing]
    batch = client.fixtures_by_ids(regular) if regular else IdsBatch([], [], [], None, 0)
    for fixture_id in isolated:
        alone = client.fixtures_by_ids([fixture_id])
        batch.fixtures += alone.fixtures
        batch.rejected += alone.rejected
        batch.failures += alone.failures
        batch.requests += alone.requests
        batch.quota = alone.quota or batch.quota

    missing = {fixture_id for failure in batch.failures if isinstance(failure.error, MissingFixturesError) for fixture_id in failure.error.missing_ids}
    # An isolated id leaves isolation once it is answered again.
    answered = {fixture.id for fixture in batch.fixtures}
    state.missing_ids = tuple(sorted(missing | (set(isolated) - answered)))
    return batch


def _handle_failures(
    failures: list[ChunkFailure], state: PollerState, now: datetime, log: logging.Logger | Any
) -> ChunkFailure | None:
    """Log each failed request once per fault, pause on quota exhaustion, return a fatal one."""
    seen: set[str] = set()
    fatal: ChunkFailure | None = None
    for failure in failures:
        action = failure.error.action
        ids = "-".join(str(fixture_id) for fixture_id in failure.ids)
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
        state.record_fault(key, f"poll of fixtures {ids} failed: {failure.error} They keep their stored state; {next_step}.", now, log)
        if action is ErrorAction.FAIL:
            fatal = fatal or failure

    state.clear_faults("api:", seen, log)
    return fatal
