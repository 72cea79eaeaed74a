"""The ``goal_notifications`` collection: one document per twitter job run.

A notification is a goal alert or a follow-up (withdrawn, reinstated). Its
``key`` is the Dagster run key. The poll tick inserts notifications in state
``due`` inside the same transaction that stores the goal records, so a goal
is never decided without its notification, nor notified twice.

States: ``due`` (decided, no run yet), ``requested`` (a run was requested),
``posting`` (a run claimed it), ``posted``, ``dry_run``, ``failed`` and
``skipped`` (decided but deliberately not sent, with ``skip_reason``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from fixture_assets.core.goals import GoalNotification
from fixture_assets.store.database import NOTIFICATIONS


class NotificationState(StrEnum):
    DUE = "due"
    REQUESTED = "requested"
    POSTING = "posting"
    POSTED = "posted"
    DRY_RUN = "dry_run"
    FAILED = "failed"
    SKIPPED = "skipped"


def notification_document(
    notification: GoalNotification,
    *,
    match_date: str,
    now: datetime,
    skip_reason: str | None = None,
) -> dict[str, Any]:
    """Build the stored document of a newly decided notification."""
    return {
        "key": notification.key,
        "goal_key": notification.goal_key,
        "kind": notification.kind.value,
        "fixture_id": notification.fixture_id,
        "team_id": notification.team_id,
        "elapsed": notification.elapsed,
        "extra": notification.extra,
        "match_date": match_date,
        "state": (NotificationState.SKIPPED if skip_reason else NotificationState.DUE).value,
        "skip_reason": skip_reason,
        "created_at": now,
        "updated_at": now,
    }


def insert_if_absent(document: dict[str, Any]) -> UpdateOne:
    """Return a bulk operation that stores ``document`` unless its key exists.

    An upsert with ``$setOnInsert`` instead of an insert: a duplicate key
    would abort the whole tick transaction, while this leaves an existing
    notification, and its delivery state, untouched.
    """
    return UpdateOne({"key": document["key"]}, {"$setOnInsert": document}, upsert=True)


# Delivery: the sensor moves notifications from due to requested, and the
# twitter job run claims one (posting) before it posts, so that a retry, a
# re-execution or a second run of the same key never posts twice. Every
# state change is a conditional update on the state the caller expects.
#
# Delivery fields:
# - set by the sensor: ``requested_at``, ``request_count``, ``run_seen_at``;
# - set by the claim: ``run_id``, ``claimed_at``, ``attempts``;
# - set while a request to X is in flight: ``sending_at``;
# - outcome: ``text``, ``post_id``, ``in_reply_to``, ``in_reply_to_key``,
#   ``action``, ``deleted_post_id``, ``posted_at``, ``finished_at``, ``error``,
#   ``released_at``, ``clip_urls``, ``clip_query``, ``clip_error``;
# - on an alert whose post was deleted: ``deleted_at``, ``deleted_by``.

# A claim without a request in flight that is older than this belongs to a
# run that died, and another run may take it over. A live run sends within
# seconds of its claim, or renews the claim before each rate-limit wait, so
# this must exceed the longest wait (rate_limit_max_wait_seconds, 900 s).
CLAIM_TAKEOVER_AFTER = timedelta(minutes=20)

UNFINISHED_STATES = (NotificationState.DUE, NotificationState.REQUESTED, NotificationState.POSTING)
DELIVERED_STATES = (NotificationState.POSTED, NotificationState.DRY_RUN)


def _collection(database: Database) -> Collection:
    return database[NOTIFICATIONS]


def find_notification(database: Database, key: str) -> dict[str, Any] | None:
    return _collection(database).find_one({"key": key}, {"_id": 0})


def find_goal_notifications(database: Database, goal_key: str) -> list[dict[str, Any]]:
    """Return every notification of one goal, oldest first."""
    cursor = _collection(database).find({"goal_key": goal_key}, {"_id": 0})
    return sorted(cursor, key=lambda document: (document["created_at"], document["key"]))


def find_due(database: Database, *, limit: int) -> list[dict[str, Any]]:
    """Return up to ``limit`` notifications in state due, oldest first."""
    cursor = (
        _collection(database)
        .find({"state": NotificationState.DUE.value}, {"_id": 0})
        .sort([("created_at", ASCENDING), ("key", ASCENDING)])
        .limit(limit)
    )
    return list(cursor)


def mark_requested(database: Database, key: str, *, now: datetime) -> bool:
    """Move a due notification to requested; return False if it is no longer due."""
    result = _collection(database).update_one(
        {"key": key, "state": NotificationState.DUE.value},
        {
            "$set": {"state": NotificationState.REQUESTED.value, "requested_at": now, "updated_at": now},
            "$inc": {"request_count": 1},
        },
    )
    return result.matched_count == 1


def find_stale_requested(database: Database, *, requested_before: datetime, limit: int) -> list[dict[str, Any]]:
    """Return notifications in state requested whose last request is older than ``requested_before``.

    Notifications whose run was found after ``requested_before`` (``run_seen_at``)
    are left out, so that notifications with runs do not fill every batch.
    """
    cursor = (
        _collection(database)
        .find(
            {
                "state": NotificationState.REQUESTED.value,
                "requested_at": {"$lt": requested_before},
                "$or": [{"run_seen_at": None}, {"run_seen_at": {"$lt": requested_before}}],
            },
            {"_id": 0},
        )
        .sort([("created_at", ASCENDING), ("key", ASCENDING)])
        .limit(limit)
    )
    return list(cursor)


def find_abandoned_claims(database: Database, *, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Return notifications claimed more than ``CLAIM_TAKEOVER_AFTER`` ago with no request to X in flight.

    Their run died between its claim and its request to X, so nothing was
    sent and another run may deliver them.
    """
    cursor = (
        _collection(database)
        .find(
            {
                "state": NotificationState.POSTING.value,
                "sending_at": None,
                "claimed_at": {"$lt": now - CLAIM_TAKEOVER_AFTER},
            },
            {"_id": 0},
        )
        .sort([("created_at", ASCENDING), ("key", ASCENDING)])
        .limit(limit)
    )
    return list(cursor)


def release_abandoned_claim(database: Database, key: str, *, previous_claimed_at: datetime, now: datetime) -> bool:
    """Put an abandoned claim back to requested, as a new request; False if it changed meanwhile."""
    result = _collection(database).update_one(
        {
            "key": key,
            "state": NotificationState.POSTING.value,
            "sending_at": None,
            "claimed_at": previous_claimed_at,
        },
        {
            "$set": {
                "state": NotificationState.REQUESTED.value,
                "requested_at": now,
                "released_at": now,
                "updated_at": now,
            },
            "$inc": {"request_count": 1},
        },
    )
    return result.matched_count == 1


def mark_run_seen(database: Database, key: str, *, now: datetime) -> None:
    """Record that the Dagster instance has a run for a requested notification."""
    _collection(database).update_one({"key": key}, {"$set": {"run_seen_at": now}})


def renew_request(database: Database, key: str, *, previous_requested_at: datetime, now: datetime) -> bool:
    """Record a new request of a stale requested notification; False if it changed meanwhile."""
    result = _collection(database).update_one(
        {"key": key, "state": NotificationState.REQUESTED.value, "requested_at": previous_requested_at},
        {"$set": {"requested_at": now, "updated_at": now}, "$inc": {"request_count": 1}},
    )
    return result.matched_count == 1


def claim(database: Database, key: str, *, run_id: str, now: datetime) -> dict[str, Any] | None:
    """Claim a notification for ``run_id`` and return it, or None if it cannot be claimed.

    A notification can be claimed from due or requested. From posting, it
    can be claimed only while no request to X is in flight (``sending_at``
    unset). The run that claimed it may claim it again, as a Dagster retry of
    a step that failed before it posted. Another run may take the claim over
    once it is older than ``CLAIM_TAKEOVER_AFTER``, because its run died
    before it sent anything. Taking over is safe: ``mark_sending`` succeeds
    only for the run that holds the claim, so at most one of two runs sends.
    """
    return _collection(database).find_one_and_update(
        {
            "key": key,
            "$or": [
                {"state": {"$in": [NotificationState.DUE.value, NotificationState.REQUESTED.value]}},
                {"state": NotificationState.POSTING.value, "run_id": run_id, "sending_at": None},
                {
                    "state": NotificationState.POSTING.value,
                    "sending_at": None,
                    "claimed_at": {"$lt": now - CLAIM_TAKEOVER_AFTER},
                },
            ],
        },
        {
            "$set": {
                "state": NotificationState.POSTING.value,
                "run_id": run_id,
                "claimed_at": now,
                "sending_at": None,
                "updated_at": now,
            },
            "$inc": {"attempts": 1},
        },
        projection={"_id": 0},
        return_document=ReturnDocument.AFTER,
    )


def mark_sending(database: Database, key: str, *, run_id: str, text: str | None, now: datetime) -> bool:
    """Record that ``run_id`` is about to send ``text`` to X; False if it lost the claim."""
    return _update_claimed(database, key, run_id, {"sending_at": now, "text": text, "updated_at": now})


def clear_sending(database: Database, key: str, *, run_id: str, now: datetime) -> bool:
    """Record that the request in flight definitely created nothing (for example a 429).

    It also renews ``claimed_at``, so a run that waits for a rate-limit reset
    keeps its claim from being taken over.
    """
    return _update_claimed(database, key, run_id, {"sending_at": None, "claimed_at": now, "updated_at": now})


def release_claim(database: Database, key: str, *, run_id: str, error: str, now: datetime) -> bool:
    """Give a claimed notification back (state requested) so that a retry can post it."""
    return _update_claimed(
        database,
        key,
        run_id,
        {
            "state": NotificationState.REQUESTED.value,
            "sending_at": None,
            "error": error,
            "released_at": now,
            "updated_at": now,
        },
    )


def mark_posted(
    database: Database,
    key: str,
    *,
    run_id: str,
    text: str | None,
    post_id: str | None,
    action: str,
    in_reply_to: str | None = None,
    deleted_post_id: str | None = None,
    now: datetime,
) -> bool:
    """Store the outcome of a post, reply or delete made by ``run_id``."""
    return _update_claimed(
        database,
        key,
        run_id,
        {
            "state": NotificationState.POSTED.value,
            "text": text,
            "post_id": post_id,
            "action": action,
            "in_reply_to": in_reply_to,
            "deleted_post_id": deleted_post_id,
            "sending_at": None,
            "error": None,
            "posted_at": now,
            "finished_at": now,
            "updated_at": now,
        },
    )


def mark_dry_run(
    database: Database,
    key: str,
    *,
    run_id: str,
    text: str | None,
    action: str,
    in_reply_to_key: str | None = None,
    now: datetime,
) -> bool:
    """Store the text a dry run would have posted; None for a delete."""
    return _update_claimed(
        database,
        key,
        run_id,
        {
            "state": NotificationState.DRY_RUN.value,
            "text": text,
            "action": action,
            "in_reply_to_key": in_reply_to_key,
            "sending_at": None,
            "error": None,
            "finished_at": now,
            "updated_at": now,
        },
    )


def mark_skipped(database: Database, key: str, *, run_id: str, reason: str, now: datetime) -> bool:
    return _update_claimed(
        database,
        key,
        run_id,
        {
            "state": NotificationState.SKIPPED.value,
            "skip_reason": reason,
            "sending_at": None,
            "finished_at": now,
            "updated_at": now,
        },
    )


def mark_failed(database: Database, key: str, *, run_id: str, error: str, now: datetime) -> bool:
    """Record that ``run_id`` gave up on a notification it holds or released."""
    result = _collection(database).update_one(
        {
            "key": key,
            "$or": [
                {"state": NotificationState.POSTING.value, "run_id": run_id},
                {"state": NotificationState.REQUESTED.value, "run_id": run_id},
            ],
        },
        {
            "$set": {
                "state": NotificationState.FAILED.value,
                "error": error,
                "finished_at": now,
                "updated_at": now,
            }
        },
    )
    return result.matched_count == 1


def mark_post_deleted(database: Database, key: str, *, deleted_by: str, now: datetime) -> None:
    """Record on an alert that its post was deleted by the follow-up ``deleted_by``."""
    _collection(database).update_one(
        {"key": key}, {"$set": {"deleted_at": now, "deleted_by": deleted_by, "updated_at": now}}
    )


def store_clips(
    database: Database,
    key: str,
    *,
    urls: list[str],
    query: str | None,
    error: str | None,
    now: datetime,
) -> None:
    _collection(database).update_one(
        {"key": key},
        {"$set": {"clip_urls": urls, "clip_query": query, "clip_error": error, "updated_at": now}},
    )


def _update_claimed(database: Database, key: str, run_id: str, fields: dict[str, Any]) -> bool:
    result = _collection(database).update_one(
        {"key": key, "state": NotificationState.POSTING.value, "run_id": run_id},
        {"$set": fields},
    )
    return result.matched_count == 1
