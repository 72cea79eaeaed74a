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

from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import UpdateOne

from fixture_assets.core.goals import GoalNotification


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
