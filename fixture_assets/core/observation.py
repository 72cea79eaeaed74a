"""Apply one successful poll of one fixture to what the pipeline has stored.

``apply_observation`` decides the fixture's collection, its goal records and
the twitter runs to launch. It is pure: the caller loads ``StoredFixture``
and writes the returned ``FixtureUpdate``.
"""

from __future__ import annotations

import hashlib
import marshal
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fixture_assets.core.goals import GoalNotification, GoalRecord, GoalRules, reconcile_goals, score_mismatch
from fixture_assets.core.models import Event, Fixture, TeamGoals
from fixture_assets.core.status import StatusClass, is_backwards, status_class


@dataclass(frozen=True, slots=True)
class StoredFixture:
    """The stored fields that decide what a new poll changes."""

    fixture_id: int
    collection: StatusClass
    status: str
    elapsed: int | None
    kickoff: datetime
    goals: TeamGoals
    events_digest: str | None
    goal_records: tuple[GoalRecord, ...]
    revision: int
    last_checked: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FixtureUpdate:
    """What one poll changes for one fixture."""

    fixture: Fixture
    previous: StoredFixture | None
    collection: StatusClass
    goal_records: tuple[GoalRecord, ...]
    notifications: tuple[GoalNotification, ...]
    events_digest: str | None
    # False when only the clock (elapsed minute) moved. Such updates are not
    # reported as materializations and are written only now and then.
    changed: bool
    # Why the poll was not applied to this fixture, or None when it was.
    ignored_reason: str | None = None
    ignored_events: tuple[Event, ...] = ()

    @property
    def moved(self) -> bool:
        return self.previous is not None and self.previous.collection is not self.collection

    @property
    def is_new(self) -> bool:
        return self.previous is None

    @property
    def goals_settled(self) -> bool:
        """True when the confirmed goals add up to the score and no goal is pending withdrawal."""
        team_scores = {self.fixture.home.id: self.fixture.goals.home, self.fixture.away.id: self.fixture.goals.away}
        if score_mismatch(team_scores, self.goal_records) is not None:
            return False
        return not any(record.absent_polls for record in self.goal_records)


def apply_observation(stored: StoredFixture | None, fixture: Fixture, rules: GoalRules) -> FixtureUpdate:
    """Return the update that one successful poll of ``fixture`` makes."""
    if stored is not None and is_backwards(stored.status, fixture.status.short):
        return FixtureUpdate(
            fixture=fixture,
            previous=stored,
            collection=stored.collection,
            goal_records=stored.goal_records,
            notifications=(),
            events_digest=stored.events_digest,
            changed=False,
            ignored_reason=f"status {fixture.status.short} is behind the stored status {stored.status}",
        )

    collection = _collection_for(stored, fixture)
    records = stored.goal_records if stored else ()
    notifications: tuple[GoalNotification, ...] = ()
    ignored_events: tuple[Event, ...] = ()
    digest = stored.events_digest if stored else None

    # A poll without an events array carries no goal information.
    if fixture.events is not None:
        digest = events_digest(fixture.raw_events)
        if not _goals_may_change(stored, fixture, digest):
            return _clock_only(stored, fixture, collection)  # type: ignore[arg-type]
        team_scores = {fixture.home.id: fixture.goals.home, fixture.away.id: fixture.goals.away}
        result = reconcile_goals(fixture.id, team_scores, fixture.events, records, rules)
        records, notifications, ignored_events = result.records, result.notifications, result.ignored_events

    changed = stored is None or _differs(stored, fixture, collection, records, digest)
    return FixtureUpdate(
        fixture=fixture,
        previous=stored,
        collection=collection,
        goal_records=records,
        notifications=notifications,
        events_digest=digest,
        changed=changed,
        ignored_events=ignored_events,
    )


def events_digest(raw_events: list[dict[str, Any]] | None) -> str | None:
    """Return a digest of the events as received, to detect changes cheaply.

    marshal format 2 has no back-references, so equal JSON values give equal
    bytes, and it is several times faster than ``json.dumps``. A Python
    release that changes the format changes every digest once, which costs
    one extra write per fixture and nothing else.
    """
    if raw_events is None:
        return None
    return hashlib.blake2b(marshal.dumps(raw_events, 2), digest_size=16).hexdigest()


def _goals_may_change(stored: StoredFixture | None, fixture: Fixture, digest: str | None) -> bool:
    """Return False when reconciling this poll would reproduce the stored goal records.

    The goal rules are a function of the events, the score and the records.
    With the same events and score, only an absence count can still move,
    so a fixture without one is skipped: most polls of a match change
    nothing but the clock.
    """
    if stored is None or stored.events_digest != digest or stored.goals != fixture.goals:
        return True
    return any(record.absent_polls for record in stored.goal_records)


def _clock_only(stored: StoredFixture, fixture: Fixture, collection: StatusClass) -> FixtureUpdate:
    changed = _differs(stored, fixture, collection, stored.goal_records, stored.events_digest)
    return FixtureUpdate(
        fixture=fixture,
        previous=stored,
        collection=collection,
        goal_records=stored.goal_records,
        notifications=(),
        events_digest=stored.events_digest,
        changed=changed,
    )


def _collection_for(stored: StoredFixture | None, fixture: Fixture) -> StatusClass:
    # An undocumented status code keeps the fixture where it is.
    received = status_class(fixture.status.short)
    if received is not None:
        return received
    return stored.collection if stored else StatusClass.STAGED


def _differs(
    stored: StoredFixture,
    fixture: Fixture,
    collection: StatusClass,
    records: tuple[GoalRecord, ...],
    digest: str | None,
) -> bool:
    return (
        stored.collection is not collection
        or stored.status != fixture.status.short
        or stored.kickoff != fixture.kickoff
        or stored.goals != fixture.goals
        or stored.events_digest != digest
        or stored.goal_records != records
    )
