"""Turn fetched fixtures into store writes: shared by the poll tick and discovery."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import UpdateOne

from fixture_assets.core.goals import GoalNotification, GoalRules
from fixture_assets.core.models import Fixture
from fixture_assets.core.observation import FixtureUpdate, StoredFixture, apply_observation
from fixture_assets.core.status import StatusClass, is_backwards
from fixture_assets.store.notifications import insert_if_absent, notification_document

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollSettings:
    """Settings of the poll tick and of discovery."""

    goal_rules: GoalRules = GoalRules()
    # Staged fixtures kicking off within this many seconds are polled every tick.
    kickoff_lead_seconds: int = 60
    # Cadence of the refresh of staged fixtures before kick-off, which catches
    # postponements and new kick-off times.
    staged_refresh_minutes: int = 15
    # Staged fixtures kicking off later than this are left to discovery.
    staged_refresh_horizon_hours: int = 24
    # Completed fixtures whose goals do not add up to the score are polled
    # for this long after completion, to catch a goal event that arrives late.
    completed_settle_minutes: int = 30
    # Goals of fixtures that kicked off longer ago than this are recorded but
    # not posted, so a backfill of past dates does not post old goals.
    alert_max_age_hours: float = 48.0
    # A live fixture whose poll moved only the match clock is written once in
    # this many minutes instead of every tick, spread over the fixtures. So
    # MongoDB holds a match minute at most this old, and each tick writes
    # about 1/clock_write_minutes of the unchanged fixtures. 0 writes them
    # every tick.
    clock_write_minutes: int = 10

    def __post_init__(self) -> None:
        for name in (
            "kickoff_lead_seconds",
            "staged_refresh_minutes",
            "staged_refresh_horizon_hours",
            "completed_settle_minutes",
            "alert_max_age_hours",
            "clock_write_minutes",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"PollSettings.{name} is {value!r}, expected a number of 0 or more")


@dataclass(slots=True)
class ObservedBatch:
    updates: list[FixtureUpdate] = field(default_factory=list)
    # The updates to store: every change, and clock-only updates when due.
    writes: list[FixtureUpdate] = field(default_factory=list)
    notification_writes: list[UpdateOne] = field(default_factory=list)
    notifications: list[GoalNotification] = field(default_factory=list)
    skipped_notifications: list[GoalNotification] = field(default_factory=list)

    @property
    def changed(self) -> list[FixtureUpdate]:
        return [update for update in self.updates if update.changed]


def observe_fixtures(
    stored: Mapping[int, StoredFixture],
    fixtures: Iterable[Fixture],
    settings: PollSettings,
    now: datetime,
    log: logging.Logger | Any = logger,
) -> ObservedBatch:
    """Apply fetched fixtures to their stored state and build the notifications."""
    batch = ObservedBatch()
    max_age = timedelta(hours=settings.alert_max_age_hours)

    for fixture in _one_per_id(fixtures, log):
        update = apply_observation(stored.get(fixture.id), fixture, settings.goal_rules)
        batch.updates.append(update)
        if _should_write(update, settings, now):
            batch.writes.append(update)
        if update.ignored_reason:
            log.warning(f"fixture {fixture.id}: poll ignored because {update.ignored_reason}")
            continue
        for event in update.ignored_events:
            log.warning(
                f"fixture {fixture.id}: goal event at {event.elapsed}' for team {event.team_id} names no team "
                "of the fixture or no minute; it is not tracked"
            )

        historical = now - fixture.kickoff > max_age
        for notification in update.notifications:
            skip_reason = (
                f"fixture kicked off more than {settings.alert_max_age_hours:g} h before the goal was seen"
                if historical
                else None
            )
            document = notification_document(notification, match_date=fixture.match_date, now=now, skip_reason=skip_reason)
            batch.notification_writes.append(insert_if_absent(document))
            (batch.skipped_notifications if skip_reason else batch.notifications).append(notification)
    return batch


def _one_per_id(fixtures: Iterable[Fixture], log: logging.Logger | Any) -> list[Fixture]:
    """Keep one copy of each fixture: the one furthest along, or else the last listed.

    Two writes of one fixture in a transaction would conflict with each other.
    """
    kept: dict[int, Fixture] = {}
    for fixture in fixtures:
        previous = kept.get(fixture.id)
        if previous is not None:
            log.warning(f"fixture {fixture.id} appears more than once in one answer; the copy furthest along is used")
            if is_backwards(previous.status.short, fixture.status.short):
                continue
        kept[fixture.id] = fixture
    return list(kept.values())


def _should_write(update: FixtureUpdate, settings: PollSettings, now: datetime) -> bool:
    previous = update.previous
    if update.ignored_reason is not None:
        return False
    if previous is None or update.changed or update.moved:
        return True
    # A staged fixture's last_checked paces its refresh, so it is always stored.
    if update.collection is StatusClass.STAGED:
        return True
    return clock_write_due(update.fixture.id, previous.last_checked, now, settings.clock_write_minutes)


def clock_write_due(fixture_id: int, last_checked: datetime | None, now: datetime, minutes: int) -> bool:
    """Return True on this fixture's minute of every ``minutes``, or when its last write is long overdue."""
    if minutes <= 0 or last_checked is None or now - last_checked >= timedelta(minutes=2 * minutes):
        return True
    # Offsetting by the fixture id spreads the fixtures over the minutes.
    return (int(now.timestamp() // 60) + fixture_id) % minutes == 0


def log_notifications(batch: ObservedBatch, log: logging.Logger | Any) -> None:
    for notification in batch.notifications:
        log.info(
            f"fixture {notification.fixture_id}: {notification.kind.value} notification {notification.key} is due "
            f"(team {notification.team_id}, {format_minute(notification.elapsed, notification.extra)})"
        )
    if batch.skipped_notifications:
        keys = ", ".join(notification.key for notification in batch.skipped_notifications)
        log.info(f"recorded without posting, because the fixtures are historical: {keys}")


def format_minute(elapsed: int | None, extra: int | None) -> str:
    if elapsed is None:
        return "?'"
    return f"{elapsed}+{extra}'" if extra else f"{elapsed}'"
