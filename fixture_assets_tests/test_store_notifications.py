"""Claims of goal notifications in MongoDB: who may take one, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.notifications import CLAIM_TAKEOVER_AFTER, claim, mark_sending

NOW = datetime(2026, 5, 2, 15, 0, tzinfo=UTC)


def stored_claim(mongo_db, *, claimed_ago: timedelta, sending: bool) -> None:
    mongo_db[NOTIFICATIONS].insert_one(
        {"key": "1-2-1", "goal_key": "1-2-1", "kind": "goal", "fixture_id": 1, "team_id": 2, "elapsed": 10,
         "extra": None, "state": "posting", "run_id": "dead-run", "claimed_at": NOW - claimed_ago,
         "sending_at": NOW - claimed_ago if sending else None, "created_at": NOW - timedelta(hours=1)}
    )


@pytest.mark.parametrize(
    "claimed_ago, sending, taken",
    [
        (CLAIM_TAKEOVER_AFTER + timedelta(minutes=1), False, True),
        (CLAIM_TAKEOVER_AFTER - timedelta(minutes=1), False, False),
        (CLAIM_TAKEOVER_AFTER + timedelta(minutes=1), True, False),
    ],
    ids=["stale-idle-claim", "fresh-claim", "request-in-flight"],
)
def test_claim_takeover_rules(mongo_db, claimed_ago, sending, taken):
    stored_claim(mongo_db, claimed_ago=claimed_ago, sending=sending)

    result = claim(mongo_db, "1-2-1", run_id="new-run", now=NOW)

    assert (result is not None) is taken


def test_taken_over_run_cannot_send(mongo_db):
    stored_claim(mongo_db, claimed_ago=CLAIM_TAKEOVER_AFTER + timedelta(minutes=1), sending=False)
    claim(mongo_db, "1-2-1", run_id="new-run", now=NOW)

    assert not mark_sending(mongo_db, "1-2-1", run_id="dead-run", text="GOAL!", now=NOW)
    assert mark_sending(mongo_db, "1-2-1", run_id="new-run", text="GOAL!", now=NOW)
