"""Read and write the three fixture collections.

Every write of a tick runs in one MongoDB transaction: a fixture that moves
between collections is never missing from all three nor visible in two, and
its goal records never land without their notifications. Updates are guarded
by the document's ``revision``, so a write based on a stale read is rejected
instead of overwriting a concurrent writer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import DeleteOne, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from fixture_assets.core.observation import FixtureUpdate, StoredFixture
from fixture_assets.core.status import StatusClass
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.documents import (
    STORED_FIXTURE_PROJECTION,
    changed_fields,
    full_document,
    stored_fixture,
)

logger = logging.getLogger(__name__)

# Large enough that a tick's read returns in one reply: projected documents
# carry no events, so 1,000 fixtures take a few hundred kilobytes.
_READ_BATCH_SIZE = 100_000
_CLASS_ORDER = {StatusClass.STAGED: 0, StatusClass.LIVE: 1, StatusClass.COMPLETED: 2}

StepHook = Callable[[str], None]


class ConcurrentUpdateError(RuntimeError):
    """Another writer changed a fixture between this tick's read and its write."""


class StoreBusyError(RuntimeError):
    """MongoDB kept reporting write conflicts until the transaction deadline."""


@dataclass(frozen=True, slots=True)
class TrackingWindow:
    """Which fixtures a poll tick fetches, relative to ``now``."""

    now: datetime
    # Staged fixtures kicking off within this lead are polled every tick.
    kickoff_lead: timedelta = timedelta(minutes=1)
    # Other staged fixtures are refreshed when their last check is this old...
    staged_refresh: timedelta = timedelta(minutes=15)
    # ...if they kick off within this horizon. Postponed ones always are.
    staged_refresh_horizon: timedelta = timedelta(hours=24)
    # Completed fixtures whose goals do not add up to the score are polled
    # this long after completion, because a last goal event often arrives
    # after the final whistle.
    completed_settle: timedelta = timedelta(minutes=30)


@dataclass(slots=True)
class LoadedFixtures:
    by_id: dict[int, StoredFixture] = field(default_factory=dict)
    # Copies of a fixture left in a lower collection, (fixture_id, collection,
    # revision). Only a writer outside this store can create them; the next
    # write deletes them.
    stale_copies: list[tuple[int, StatusClass, int]] = field(default_factory=list)


@dataclass(slots=True)
class WriteSummary:
    fixtures_written: int = 0
    fixtures_moved: int = 0
    notifications_offered: int = 0
    stale_copies_deleted: int = 0
    commands: int = 0
    attempts: int = 0


class FixtureStore:
    def __init__(self, database: Database, *, transaction_timeout_s: float = 20.0) -> None:
        self.database = database
        self.transaction_timeout_s = transaction_timeout_s

    def load_tracked(self, window: TrackingWindow) -> LoadedFixtures:
        """Load the fixtures due for a poll, in one command.

        They are the live fixtures, the staged fixtures about to kick off or
        due for a refresh, and the recently completed fixtures whose goals
        are not settled.
        """
        now = window.now
        staged_due = {
            "$or": [
                {"status.short": "NS", "kickoff": {"$lte": now + window.kickoff_lead}},
                {
                    "last_checked": {"$lte": now - window.staged_refresh},
                    "$or": [
                        {"status.short": "PST"},
                        {"kickoff": {"$lte": now + window.staged_refresh_horizon}},
                    ],
                },
            ]
        }
        completed_unsettled = {"goals_settled": False, "completed_at": {"$gte": now - window.completed_settle}}
        pipeline = [
            *_projected(StatusClass.LIVE),
            {"$unionWith": {"coll": StatusClass.STAGED.value, "pipeline": [{"$match": staged_due}, *_projected(StatusClass.STAGED)]}},
            {
                "$unionWith": {
                    "coll": StatusClass.COMPLETED.value,
                    "pipeline": [{"$match": completed_unsettled}, *_projected(StatusClass.COMPLETED)],
                }
            },
        ]
        documents = self.database[StatusClass.LIVE.value].aggregate(pipeline, batchSize=_READ_BATCH_SIZE)
        return _collect(documents)

    def load_fixtures(self, fixture_ids: Iterable[int]) -> LoadedFixtures:
        """Load the given fixtures from whichever collection contains them, in one command."""
        match = {"$match": {"fixture_id": {"$in": sorted(set(fixture_ids))}}}
        return self._load_from_all(match)

    def load_match_date(self, match_date: str, collections: Sequence[StatusClass] = tuple(StatusClass)) -> LoadedFixtures:
        """Load the fixtures of one daily partition, in one command."""
        loaded = self._load_from_all({"$match": {"match_date": match_date}})
        included = set(collections)
        loaded.by_id = {key: value for key, value in loaded.by_id.items() if value.collection in included}
        return loaded

    def write(
        self,
        updates: Sequence[FixtureUpdate],
        notifications: Sequence[UpdateOne],
        now: datetime,
        *,
        stale_copies: Sequence[tuple[int, StatusClass, int]] = (),
        step_hook: StepHook | None = None,
    ) -> WriteSummary:
        """Write a tick's updates and notifications in one transaction.

        Raises ConcurrentUpdateError when a fixture changed since it was read,
        StoreBusyError when write conflicts outlast the transaction timeout,
        and the last ConnectionFailure when the connection keeps failing until then.
        ``step_hook`` is called with a step name after each command, for tests
        that stop the work part-way.
        """
        plan = _plan(updates, notifications, stale_copies, now)
        summary = WriteSummary(
            fixtures_written=sum(1 for update in updates if update.ignored_reason is None),
            fixtures_moved=sum(1 for update in updates if update.moved),
            notifications_offered=len(notifications),
            stale_copies_deleted=len(stale_copies),
        )
        if plan.empty:
            return summary
        self._run_transaction(plan, summary, step_hook or _no_hook)
        return summary

    def _load_from_all(self, match: dict[str, Any]) -> LoadedFixtures:
        pipeline: list[dict[str, Any]] = [match, *_projected(StatusClass.STAGED)]
        for collection in (StatusClass.LIVE, StatusClass.COMPLETED):
            pipeline.append({"$unionWith": {"coll": collection.value, "pipeline": [match, *_projected(collection)]}})
        documents = self.database[StatusClass.STAGED.value].aggregate(pipeline, batchSize=_READ_BATCH_SIZE)
        return _collect(documents)

    def _run_transaction(self, plan: _WritePlan, summary: WriteSummary, step_hook: StepHook) -> None:
        deadline = time.monotonic() + self.transaction_timeout_s
        client = self.database.client
        while True:
            summary.attempts += 1
            try:
                with client.start_session() as session:
                    with session.start_transaction():
                        self._apply_plan(plan, session, summary, step_hook)
                        step_hook("before commit")
                        _commit(session)
                step_hook("after commit")
                return
            except PyMongoError as error:
                if not _is_transient(error) or time.monotonic() > deadline:
                    # A lost connection is no write conflict: it is raised as it is.
                    if _is_transient(error) and not isinstance(error, ConnectionFailure):
                        raise StoreBusyError(
                            f"MongoDB reported write conflicts for {self.transaction_timeout_s:.0f} s. Another "
                            "writer holds these fixtures, or an interrupted tick left a transaction that MongoDB "
                            "aborts after its lifetime limit (60 s by default). The next tick retries."
                        ) from error
                    raise
                logger.warning("fixture write attempt %d hit a transient MongoDB error, retrying: %s", summary.attempts, error)
                time.sleep(min(0.05 * 2**summary.attempts, 1.0))

    def _apply_plan(self, plan: _WritePlan, session: ClientSession, summary: WriteSummary, step_hook: StepHook) -> None:
        if plan.notifications:
            self.database[NOTIFICATIONS].bulk_write(plan.notifications, ordered=False, session=session)
            summary.commands += 1
            step_hook(f"after {NOTIFICATIONS}")

        for collection in (StatusClass.COMPLETED, StatusClass.LIVE, StatusClass.STAGED):
            operations = plan.operations.get(collection)
            if not operations:
                continue
            result = self.database[collection.value].bulk_write(operations.requests, ordered=False, session=session)
            summary.commands += operations.command_count
            if (
                result.matched_count != operations.guarded_updates
                or result.upserted_count != operations.inserts
                or result.deleted_count != operations.deletes
            ):
                raise ConcurrentUpdateError(
                    f"{collection.value} changed during the tick (matched {result.matched_count} of "
                    f"{operations.guarded_updates} updates, inserted {result.upserted_count} of {operations.inserts}, "
                    f"deleted {result.deleted_count} of {operations.deletes}); the transaction was rolled back "
                    f"and the next tick re-reads fixtures {operations.fixture_ids_text()}"
                )
            step_hook(f"after {collection.value}")


@dataclass(slots=True)
class _CollectionOperations:
    requests: list[UpdateOne | DeleteOne] = field(default_factory=list)
    guarded_updates: int = 0
    inserts: int = 0
    deletes: int = 0
    fixture_ids: list[int] = field(default_factory=list)

    @property
    def command_count(self) -> int:
        # pymongo sends one command per operation type in an unordered bulk write.
        return int(self.guarded_updates + self.inserts > 0) + int(self.deletes > 0)

    def fixture_ids_text(self) -> str:
        first_ids = ", ".join(str(fixture_id) for fixture_id in self.fixture_ids[:10])
        more = len(self.fixture_ids) - 10
        return first_ids + (f" and {more} more" if more > 0 else "")


@dataclass(slots=True)
class _WritePlan:
    notifications: list[UpdateOne]
    operations: dict[StatusClass, _CollectionOperations]

    @property
    def empty(self) -> bool:
        return not self.notifications and not any(ops.requests for ops in self.operations.values())


def _plan(
    updates: Sequence[FixtureUpdate],
    notifications: Sequence[UpdateOne],
    stale_copies: Sequence[tuple[int, StatusClass, int]],
    now: datetime,
) -> _WritePlan:
    operations: dict[StatusClass, _CollectionOperations] = {}

    def for_collection(collection: StatusClass) -> _CollectionOperations:
        return operations.setdefault(collection, _CollectionOperations())

    for update in updates:
        if update.ignored_reason is not None:
            continue
        fixture_id = update.fixture.id
        previous = update.previous

        if previous is None or update.moved:
            target = for_collection(update.collection)
            document = full_document(update, now)
            target.requests.append(UpdateOne({"fixture_id": fixture_id}, {"$setOnInsert": document}, upsert=True))
            target.inserts += 1
            target.fixture_ids.append(fixture_id)
        if previous is not None and update.moved:
            source = for_collection(previous.collection)
            source.requests.append(DeleteOne({"fixture_id": fixture_id, "revision": previous.revision}))
            source.deletes += 1
            source.fixture_ids.append(fixture_id)
        if previous is not None and not update.moved:
            target = for_collection(update.collection)
            guard = {"fixture_id": fixture_id, "revision": previous.revision}
            target.requests.append(UpdateOne(guard, {"$set": changed_fields(update, now)}))
            target.guarded_updates += 1
            target.fixture_ids.append(fixture_id)

    for fixture_id, collection, revision in stale_copies:
        stale = for_collection(collection)
        stale.requests.append(DeleteOne({"fixture_id": fixture_id, "revision": revision}))
        stale.deletes += 1
        stale.fixture_ids.append(fixture_id)

    return _WritePlan(list(notifications), operations)


def _projected(collection: StatusClass) -> list[dict[str, Any]]:
    return [{"$project": STORED_FIXTURE_PROJECTION}, {"$addFields": {"_collection": collection.value}}]


def _collect(documents: Iterable[dict[str, Any]]) -> LoadedFixtures:
    loaded = LoadedFixtures()
    for document in documents:
        collection = StatusClass(document["_collection"])
        candidate = stored_fixture(document, collection)
        current = loaded.by_id.get(candidate.fixture_id)
        if current is None:
            loaded.by_id[candidate.fixture_id] = candidate
            continue

        # The same fixture in two collections: keep the furthest along.
        keep, stale = sorted((current, candidate), key=lambda item: _CLASS_ORDER[item.collection], reverse=True)
        logger.error(
            "fixture %d is stored in both %s and %s; keeping the %s copy and deleting the other",
            candidate.fixture_id,
            keep.collection.value,
            stale.collection.value,
            keep.collection.value,
        )
        loaded.by_id[candidate.fixture_id] = keep
        loaded.stale_copies.append((stale.fixture_id, stale.collection, stale.revision))
    return loaded


def _commit(session: ClientSession) -> None:
    # A commit whose outcome is unknown (connection lost) is safe to retry.
    for attempt in range(3):
        try:
            session.commit_transaction()
            return
        except PyMongoError as error:
            if not error.has_error_label("UnknownTransactionCommitResult") or attempt == 2:
                raise
            logger.warning("commit outcome unknown, retrying the commit: %s", error)


def _is_transient(error: PyMongoError) -> bool:
    if error.has_error_label("TransientTransactionError"):
        return True
    return isinstance(error, ConnectionFailure) or (isinstance(error, OperationFailure) and error.code == 112)


def _no_hook(step: str) -> None:
    pass
