"""Exactly-once delivery on MongoDB (SecantusDB) and the X API stand-in, without Dagster."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pymongo.database import Database

from fixture_assets.core.goals import NotificationKind
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.notifications import NotificationState
from fixture_assets.twitter.clips import ClipSearcher
from fixture_assets.twitter.delivery import Delivery, DeliveryError, DeliverySettings, RetryableDeliveryError
from fixture_assets.twitter.publisher import DryRunPublisher, PostingCredentials, Publisher, TweepyPublisher
from fixture_assets.twitter.sending import RateLimitPolicy

from .twitter_fixtures import (
    AWAY_ID,
    CREDENTIALS,
    NOW,
    fixture_document,
    goal_record,
    notification,
    set_goal_state,
    store_fixture,
    store_notification,
    x_stub,  # noqa: F401
)
from .x_api_stub import CREATE, SEARCH, StubResponse, XApiStub

ALERT_TEXT = "GOAL! Arsenal 1-0 Chelsea\n23' Bukayo Saka\nPremier League"


@pytest.fixture
def publisher(x_stub: XApiStub) -> TweepyPublisher:  # noqa: F811
    return TweepyPublisher(
        PostingCredentials(
            CREDENTIALS["X_API_KEY"],
            CREDENTIALS["X_API_SECRET"],
            CREDENTIALS["X_ACCESS_TOKEN"],
            CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
        ),
        api_base_url=x_stub.base_url,
    )


class SleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def delivery(
    database: Database,
    publisher: Publisher,
    sleep: SleepRecorder | None = None,
    clip_searcher: ClipSearcher | None = None,
    **settings: Any,
) -> Delivery:
    rate_limit = {"margin_seconds": 0.0}
    for name in list(settings):
        if name.startswith("rate_limit_"):
            rate_limit[name.removeprefix("rate_limit_")] = settings.pop(name)
    return Delivery(
        database,
        publisher,
        DeliverySettings(rate_limit=RateLimitPolicy(**rate_limit), **settings),
        clip_searcher=clip_searcher,
        clock=lambda: NOW,
        sleep=sleep or SleepRecorder(),
    )


def stored(database: Database, key: str) -> dict[str, Any]:
    document = database[NOTIFICATIONS].find_one({"key": key}, {"_id": 0})
    assert document is not None
    return document


def seed_goal(database: Database, **record_fields: Any) -> dict[str, Any]:
    """Store a fixture with one confirmed home goal and its due alert; return the goal record."""
    record = goal_record(1, **record_fields)
    store_fixture(database, fixture_document([record]))
    store_notification(database, notification(record))
    return record


def test_alert_posted_once(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)

    result = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert result.state is NotificationState.POSTED
    assert result.text == ALERT_TEXT
    document = stored(mongo_db, record["key"])
    assert document["state"] == "posted"
    assert document["post_id"] == result.post_id
    assert document["text"] == ALERT_TEXT
    assert document["run_id"] == "run-1"
    assert document["attempts"] == 1
    assert document["sending_at"] is None
    assert x_stub.posts[result.post_id]["text"] == ALERT_TEXT


@pytest.mark.parametrize("second_run", ["run-1", "run-2"], ids=["retry-same-run", "second-run"])
def test_second_delivery_posts_nothing(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub, second_run: str  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    first = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    again = delivery(mongo_db, publisher).deliver(record["key"], second_run)

    assert again.already_done is True
    assert again.post_id == first.post_id
    assert len(x_stub.requests_to(CREATE)) == 1


def test_dry_run_records_text(mongo_db: Database, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db, assist="Martin Ødegaard")

    result = delivery(mongo_db, DryRunPublisher()).deliver(record["key"], "run-1")

    assert result.state is NotificationState.DRY_RUN
    document = stored(mongo_db, record["key"])
    assert document["state"] == "dry_run"
    assert document["text"] == "GOAL! Arsenal 1-0 Chelsea\n23' Bukayo Saka\nAssist: Martin Ødegaard\nPremier League"
    assert document.get("post_id") is None
    assert x_stub.requests == []


def test_claim_held_by_other_run(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    mongo_db[NOTIFICATIONS].update_one(
        {"key": record["key"]}, {"$set": {"state": "posting", "run_id": "crashed-run", "sending_at": NOW}}
    )

    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, publisher).deliver(record["key"], "run-2")

    message = str(raised.value)
    assert "held by run crashed-run" in message
    assert "Check the X account" in message
    assert "set state 'posted'" in message
    assert not isinstance(raised.value, RetryableDeliveryError)
    assert x_stub.requests == []
    assert stored(mongo_db, record["key"])["state"] == "posting"


def test_same_run_reclaims_before_send(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    mongo_db[NOTIFICATIONS].update_one(
        {"key": record["key"]}, {"$set": {"state": "posting", "run_id": "run-1", "sending_at": None}}
    )

    result = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert result.state is NotificationState.POSTED
    assert len(x_stub.posts) == 1


def test_same_run_never_resends_in_flight(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    mongo_db[NOTIFICATIONS].update_one(
        {"key": record["key"]}, {"$set": {"state": "posting", "run_id": "run-1", "sending_at": NOW}}
    )

    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert "with a request to X in flight" in str(raised.value)
    assert x_stub.requests == []


def test_server_error_releases_claim(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.enqueue(CREATE, StubResponse.server_error(503))

    with pytest.raises(RetryableDeliveryError) as raised:
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert raised.value.wait_seconds is None
    released = stored(mongo_db, record["key"])
    assert released["state"] == "requested"
    assert "503" in released["error"]
    assert released["sending_at"] is None

    retried = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert retried.state is NotificationState.POSTED
    assert stored(mongo_db, record["key"])["attempts"] == 2
    assert len(x_stub.requests_to(CREATE)) == 2
    assert len(x_stub.posts) == 1


def test_server_error_after_post_ends_in_duplicate(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    # X created the post but responded with a 5xx, so the retry hits X's duplicate check.
    x_stub.add_post(ALERT_TEXT)
    x_stub.enqueue(CREATE, StubResponse.server_error(500))
    with pytest.raises(RetryableDeliveryError):
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    message = str(raised.value)
    assert "duplicate content" in message
    assert "no post id is stored" in message
    assert "Check the account" in message
    assert stored(mongo_db, record["key"])["state"] == "failed"
    assert len(x_stub.posts) == 1


def test_duplicate_with_stored_post_id_succeeds(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    post_id = x_stub.add_post(ALERT_TEXT)
    mongo_db[NOTIFICATIONS].update_one({"key": record["key"]}, {"$set": {"post_id": post_id}})

    result = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert result.state is NotificationState.POSTED
    assert result.post_id == post_id
    assert stored(mongo_db, record["key"])["state"] == "posted"
    assert len(x_stub.posts) == 1


def test_rate_limit_waits_for_reset(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.enqueue(CREATE, StubResponse.rate_limited(NOW.timestamp() + 30))
    sleep = SleepRecorder()

    result = delivery(mongo_db, publisher, sleep).deliver(record["key"], "run-1")

    assert sleep.waits == [30.0]
    assert result.state is NotificationState.POSTED
    assert len(x_stub.requests_to(CREATE)) == 2
    assert len(x_stub.posts) == 1


def test_rate_limit_without_reset_header(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.enqueue(CREATE, StubResponse(429, {"title": "Too Many Requests", "status": 429}))
    sleep = SleepRecorder()

    delivery(mongo_db, publisher, sleep, rate_limit_default_wait_seconds=7.0).deliver(record["key"], "run-1")

    assert sleep.waits == [7.0]


def test_rate_limit_beyond_max_wait_retries_later(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    x_stub.enqueue(CREATE, StubResponse.rate_limited(NOW.timestamp() + 1200))
    sleep = SleepRecorder()

    with pytest.raises(RetryableDeliveryError) as raised:
        delivery(mongo_db, publisher, sleep, rate_limit_max_wait_seconds=900).deliver(record["key"], "run-1")

    assert raised.value.wait_seconds == 1200.0
    assert sleep.waits == []
    document = stored(mongo_db, record["key"])
    assert document["state"] == "requested"
    assert document["sending_at"] is None
    assert x_stub.posts == {}


def test_rate_limit_waits_are_bounded(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.enqueue(CREATE, *[StubResponse.rate_limited(NOW.timestamp() + 5)] * 3)
    sleep = SleepRecorder()

    with pytest.raises(RetryableDeliveryError):
        delivery(mongo_db, publisher, sleep, rate_limit_max_waits=2).deliver(record["key"], "run-1")

    assert sleep.waits == [5.0, 5.0]
    assert stored(mongo_db, record["key"])["state"] == "requested"


def test_unauthorized_fails_without_retry(mongo_db: Database, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    wrong = TweepyPublisher(
        PostingCredentials("wrong-key", "wrong-secret", "wrong-token", "wrong-token-secret"),
        api_base_url=x_stub.base_url,
    )

    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, wrong).deliver(record["key"], "run-1")

    assert not isinstance(raised.value, RetryableDeliveryError)
    assert "X_ACCESS_TOKEN_SECRET" in str(raised.value)
    assert "wrong-secret" not in str(raised.value)
    document = stored(mongo_db, record["key"])
    assert document["state"] == "failed"
    assert "401" in document["error"]
    assert len(x_stub.requests_to(CREATE)) == 1


def test_failed_notification_not_retried(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.enqueue(CREATE, StubResponse.forbidden("You are not permitted to perform this action."))
    with pytest.raises(DeliveryError):
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, publisher).deliver(record["key"], "run-2")

    assert "failed in run run-1" in str(raised.value)
    assert "set state 'requested'" in str(raised.value)
    assert len(x_stub.requests_to(CREATE)) == 1


def test_alert_of_withdrawn_goal_skipped(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    set_goal_state(mongo_db, record["key"], "cancelled")

    result = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert result.state is NotificationState.SKIPPED
    assert stored(mongo_db, record["key"])["skip_reason"] == "the goal was withdrawn before its alert was posted"
    assert x_stub.requests == []


def withdraw(database: Database, record: dict[str, Any], number: int) -> str:
    set_goal_state(database, record["key"], "cancelled")
    document = notification(record, NotificationKind.CANCELLED, number=number, created_at=NOW + timedelta(minutes=number))
    store_notification(database, document)
    return document["key"]


def reinstate(database: Database, record: dict[str, Any], number: int) -> str:
    set_goal_state(database, record["key"], "confirmed")
    document = notification(record, NotificationKind.REINSTATED, number=number, created_at=NOW + timedelta(minutes=number))
    store_notification(database, document)
    return document["key"]


def test_withdrawn_then_reinstated_goal(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    keys = [record["key"]]
    alert = delivery(mongo_db, publisher).deliver(record["key"], "run-alert")
    keys.append(withdraw(mongo_db, record, 1))
    correction = delivery(mongo_db, publisher).deliver(keys[1], "run-cancelled")
    keys.append(reinstate(mongo_db, record, 2))
    reinstated = delivery(mongo_db, publisher).deliver(keys[2], "run-reinstated")
    # Re-executions of every run post nothing more.
    for key in keys:
        delivery(mongo_db, publisher).deliver(key, "run-again")

    assert len(x_stub.posts) == 3
    alerts = [post for post in x_stub.posts.values() if post["text"].startswith("GOAL!")]
    assert len(alerts) == 1
    assert x_stub.posts[correction.post_id] == {
        "text": "Correction: the 23' goal by Bukayo Saka has been disallowed.\nArsenal 0-0 Chelsea",
        "in_reply_to": alert.post_id,
    }
    assert x_stub.posts[reinstated.post_id] == {
        "text": "Goal stands: the 23' goal by Bukayo Saka counts after all.\nArsenal 1-0 Chelsea",
        "in_reply_to": alert.post_id,
    }
    assert [stored(mongo_db, key)["action"] for key in keys] == ["posted", "replied", "replied"]


def test_second_withdrawal_gets_numbered_text(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    delivery(mongo_db, publisher).deliver(record["key"], "run-alert")
    delivery(mongo_db, publisher).deliver(withdraw(mongo_db, record, 1), "run-1")
    delivery(mongo_db, publisher).deliver(reinstate(mongo_db, record, 2), "run-2")

    again = delivery(mongo_db, publisher).deliver(withdraw(mongo_db, record, 3), "run-3")

    assert again.state is NotificationState.POSTED
    assert again.text == "Correction: the 23' goal by Bukayo Saka has been disallowed.\nArsenal 0-0 Chelsea (update 3)"
    assert len(x_stub.posts) == 4


def test_withdrawal_deletes_alert_when_configured(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    alert = delivery(mongo_db, publisher, delete_on_withdraw=True).deliver(record["key"], "run-alert")
    cancelled_key = withdraw(mongo_db, record, 1)

    removal = delivery(mongo_db, publisher, delete_on_withdraw=True).deliver(cancelled_key, "run-1")
    reinstated = delivery(mongo_db, publisher, delete_on_withdraw=True).deliver(reinstate(mongo_db, record, 2), "run-2")

    assert removal.action == "deleted"
    assert removal.deleted_post_id == alert.post_id
    assert x_stub.deleted == [alert.post_id]
    assert stored(mongo_db, record["key"])["deleted_by"] == cancelled_key
    assert stored(mongo_db, cancelled_key)["deleted_post_id"] == alert.post_id
    # With the alert gone, the reinstatement is posted on its own instead of as a reply.
    assert x_stub.posts[reinstated.post_id]["in_reply_to"] is None
    assert reinstated.text.startswith("Goal stands:")


def test_followup_waits_for_alert(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    cancelled_key = withdraw(mongo_db, record, 1)
    set_goal_state(mongo_db, record["key"], "confirmed")

    with pytest.raises(RetryableDeliveryError) as raised:
        delivery(mongo_db, publisher, predecessor_wait_seconds=12).deliver(cancelled_key, "run-1")

    assert raised.value.wait_seconds == 12
    assert record["key"] in str(raised.value)
    assert stored(mongo_db, cancelled_key)["state"] == "requested"
    assert x_stub.requests == []

    alert = delivery(mongo_db, publisher).deliver(record["key"], "run-alert")
    correction = delivery(mongo_db, publisher).deliver(cancelled_key, "run-1")

    assert x_stub.posts[correction.post_id]["in_reply_to"] == alert.post_id


def test_followups_of_unposted_alert(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    set_goal_state(mongo_db, record["key"], "cancelled")
    delivery(mongo_db, publisher).deliver(record["key"], "run-alert")
    cancelled_key = withdraw(mongo_db, record, 1)

    correction = delivery(mongo_db, publisher).deliver(cancelled_key, "run-1")
    reinstated = delivery(mongo_db, publisher).deliver(reinstate(mongo_db, record, 2), "run-2")

    assert correction.state is NotificationState.SKIPPED
    assert "never posted" in (correction.skip_reason or "")
    # No alert reached the account, so the reinstatement announces the goal as an alert.
    assert reinstated.text == ALERT_TEXT
    assert x_stub.posts[reinstated.post_id]["in_reply_to"] is None
    assert len(x_stub.posts) == 1


def test_dry_run_followup_of_dry_run_alert(mongo_db: Database, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    delivery(mongo_db, DryRunPublisher()).deliver(record["key"], "run-alert")
    cancelled_key = withdraw(mongo_db, record, 1)

    result = delivery(mongo_db, DryRunPublisher()).deliver(cancelled_key, "run-1")

    assert result.state is NotificationState.DRY_RUN
    document = stored(mongo_db, cancelled_key)
    assert document["in_reply_to_key"] == record["key"]
    assert document["text"].startswith("Correction:")
    assert x_stub.requests == []


def test_live_correction_of_dry_run_alert_skipped(
    mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub  # noqa: F811
) -> None:
    record = seed_goal(mongo_db)
    delivery(mongo_db, DryRunPublisher()).deliver(record["key"], "run-alert")
    cancelled_key = withdraw(mongo_db, record, 1)

    result = delivery(mongo_db, publisher).deliver(cancelled_key, "run-1")

    assert result.state is NotificationState.SKIPPED
    assert x_stub.requests == []


def test_own_goal_alert_credits_other_team(mongo_db: Database, publisher: TweepyPublisher) -> None:
    record = goal_record(1, team_id=AWAY_ID, elapsed=45, extra=2, player="Ben White", detail="Own Goal")
    store_fixture(mongo_db, fixture_document([record]))
    store_notification(mongo_db, notification(record))

    result = delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert result.text == "GOAL! Arsenal 0-1 Chelsea\n45+2' Ben White (OG)\nPremier League"


def test_unknown_notification(mongo_db: Database, publisher: TweepyPublisher) -> None:
    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, publisher).deliver("1-2-3", "run-1")

    assert "notification 1-2-3 was not found" in str(raised.value)


def test_missing_fixture_fails(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = goal_record(1)
    store_notification(mongo_db, notification(record))

    with pytest.raises(DeliveryError) as raised:
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    assert "fixture 1153127" in str(raised.value)
    assert stored(mongo_db, record["key"])["state"] == "failed"
    assert x_stub.requests == []


def test_unexpected_error_releases_claim(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db, elapsed="not a minute")  # type: ignore[arg-type]

    with pytest.raises(ValueError):
        delivery(mongo_db, publisher).deliver(record["key"], "run-1")

    document = stored(mongo_db, record["key"])
    assert document["state"] == "requested"
    assert "ValueError" in document["error"]
    assert x_stub.requests == []


def test_clips_stored_on_notification(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.search_results = [{"id": "555", "text": "Saka what a goal", "author_id": "8", "username": "afcclips"}]
    searcher = ClipSearcher(CREDENTIALS["X_BEARER_TOKEN"], api_base_url=x_stub.base_url)

    result = delivery(mongo_db, publisher, clip_searcher=searcher).deliver(record["key"], "run-1")

    assert result.clip_urls == ("https://x.com/afcclips/status/555",)
    document = stored(mongo_db, record["key"])
    assert document["clip_urls"] == ["https://x.com/afcclips/status/555"]
    assert document["clip_query"] == '"Saka" ("Arsenal" OR "Chelsea") has:videos -is:retweet'
    [request] = x_stub.requests_to(SEARCH)
    assert request.query["start_time"] == ["2026-05-02T14:55:00Z"]


def test_clip_search_failure_keeps_alert(mongo_db: Database, publisher: TweepyPublisher, x_stub: XApiStub) -> None:  # noqa: F811
    record = seed_goal(mongo_db)
    x_stub.enqueue(SEARCH, StubResponse.rate_limited(NOW.timestamp() + 900))
    searcher = ClipSearcher(CREDENTIALS["X_BEARER_TOKEN"], api_base_url=x_stub.base_url)

    result = delivery(mongo_db, publisher, clip_searcher=searcher).deliver(record["key"], "run-1")

    assert result.state is NotificationState.POSTED
    document = stored(mongo_db, record["key"])
    assert document["clip_urls"] == []
    assert "429" in document["clip_error"]
