"""Deliver one goal notification exactly once: claim, compose, post, store.

The notification document in MongoDB, not Dagster's run storage, decides
whether a post may be sent. A run first claims the notification with a
conditional update (due or requested -> posting, with its run id; see
``store.notifications.claim``). Posted, dry-run and skipped notifications
cannot be claimed, so a retry, a re-execution or a second run for the same
key returns the stored outcome and posts nothing. ``sending.Sender`` then
posts and stores the outcome.

What each kind posts:

- alert (``goal``): the alert text, or nothing if the goal was already
  withdrawn when the run started.
- ``cancelled``: a correction as a reply to the alert, or the deletion of
  the goal's live post when ``delete_on_withdraw`` is set. Nothing if the
  alert never reached the account.
- ``reinstated``: a follow-up as a reply to the alert, standalone if the
  alert was deleted, or the alert text itself if no alert was ever posted.

Follow-ups wait until the goal's earlier notifications are finished, so the
thread on X reads in the order the goal changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from fixture_assets.core.goals import NotificationKind
from fixture_assets.store import notifications as store
from fixture_assets.store.database import FIXTURE_COLLECTIONS, NOTIFICATIONS
from fixture_assets.store.notifications import NotificationState
from fixture_assets.twitter.clips import ClipSearcher, build_clip_query
from fixture_assets.twitter.facts import FactsError, find_goal_record, goal_facts
from fixture_assets.twitter.messages import GoalFacts, Templates, compose
from fixture_assets.twitter.publisher import Publisher, XApiError
from fixture_assets.twitter.sending import (
    ACTION_DELETED,
    ACTION_POSTED,
    Attempt,
    DeliveryError,
    DeliveryResult,
    Log,
    RateLimitPolicy,
    RetryableDeliveryError,
    Sender,
    resend_hint,
)
from fixture_assets.twitter.text_length import MAX_WEIGHTED_LENGTH, weighted_length

__all__ = ["Delivery", "DeliveryError", "DeliveryResult", "DeliverySettings", "RetryableDeliveryError"]

logger = logging.getLogger(__name__)

_UNFINISHED = frozenset(state.value for state in store.UNFINISHED_STATES)
_DELIVERED = frozenset(state.value for state in store.DELIVERED_STATES)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    templates: Templates = field(default_factory=Templates)
    # Delete the alert when its goal is withdrawn, instead of replying with a correction.
    delete_on_withdraw: bool = False
    rate_limit: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    # How long a follow-up waits before checking again whether the goal's
    # earlier notifications are finished.
    predecessor_wait_seconds: float = 30.0
    clip_minutes_before: int = 5
    clip_minutes_after: int = 10


class Delivery:
    """Delivers notifications of one MongoDB database through one publisher."""

    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        settings: DeliverySettings | None = None,
        *,
        clip_searcher: ClipSearcher | None = None,
        log: Log = logger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._database = database
        self._settings = settings or DeliverySettings()
        self._clip_searcher = clip_searcher
        self._log = log
        self._clock = clock
        self._sender = Sender(database, publisher, self._settings.rate_limit, log=log, clock=clock, sleep=sleep)

    def deliver(self, key: str, run_id: str) -> DeliveryResult:
        """Deliver notification ``key`` for the Dagster run ``run_id``.

        Returns the outcome, including an outcome stored by an earlier run.
        Raises RetryableDeliveryError when a retry may succeed, and
        DeliveryError when it cannot.
        """
        notification = store.find_notification(self._database, key)
        if notification is None:
            raise DeliveryError(
                f"notification {key} was not found in {NOTIFICATIONS}; the run config must name the key "
                "of a notification that the poll tick stored"
            )

        claimed = store.claim(self._database, key, run_id=run_id, now=self._clock())
        if claimed is None:
            return self._unclaimable(key, run_id)
        self._log.info(
            f"claimed notification {key} (kind {claimed['kind']}, goal {claimed['goal_key']}, "
            f"fixture {claimed['fixture_id']}), attempt {claimed.get('attempts')}"
        )

        attempt = Attempt(claimed, run_id)
        try:
            return self._deliver_claimed(attempt)
        except DeliveryError:
            raise
        except FactsError as error:
            self._sender.fail(attempt, str(error))
            raise DeliveryError(f"notification {key} cannot be composed: {error}") from error
        except Exception as error:
            self._sender.release_after_unexpected(attempt, error)
            raise

    def give_up(self, key: str, run_id: str, error: str) -> None:
        """Mark a notification failed after the run's last retry, if the claim still belongs to this run."""
        if store.mark_failed(self._database, key, run_id=run_id, error=error, now=self._clock()):
            self._log.error(f"notification {key} failed after the last retry: {error}")

    def _deliver_claimed(self, attempt: Attempt) -> DeliveryResult:
        kind = NotificationKind(attempt.notification["kind"])
        fixture = self._load_fixture(attempt)
        if kind is NotificationKind.GOAL:
            return self._deliver_alert(attempt, fixture)

        goal_notifications = store.find_goal_notifications(self._database, attempt.notification["goal_key"])
        self._wait_for_predecessors(attempt, goal_notifications)
        alert = next((item for item in goal_notifications if item["kind"] == NotificationKind.GOAL.value), None)
        if kind is NotificationKind.CANCELLED:
            return self._deliver_cancellation(attempt, fixture, alert, goal_notifications)
        return self._deliver_reinstatement(attempt, fixture, alert, goal_notifications)

    def _deliver_alert(self, attempt: Attempt, fixture: Mapping[str, Any]) -> DeliveryResult:
        record = find_goal_record(fixture, attempt.notification["goal_key"])
        if record.get("state") == "cancelled":
            return self._sender.skip(attempt, "the goal was withdrawn before its alert was posted")

        facts = self._facts(fixture, attempt.notification, NotificationKind.GOAL)
        text = compose(self._settings.templates.alert, facts)
        result = self._sender.post(attempt, text, in_reply_to=None, in_reply_to_key=None)
        if self._clip_searcher is not None:
            result = self._search_clips(result, attempt.notification, facts)
        return result

    def _deliver_cancellation(
        self,
        attempt: Attempt,
        fixture: Mapping[str, Any],
        alert: Mapping[str, Any] | None,
        goal_notifications: list[dict[str, Any]],
    ) -> DeliveryResult:
        if alert is None or not self._announced(alert):
            state = alert["state"] if alert else "missing"
            return self._sender.skip(
                attempt, f"the goal's alert was never posted (alert state {state}); nothing to correct"
            )

        if self._settings.delete_on_withdraw:
            target = _live_post_of_goal(alert, goal_notifications)
            if target is None:
                return self._sender.skip(attempt, "the goal's posts were already deleted; nothing to delete")
            return self._sender.delete(attempt, target)

        if alert.get("deleted_at"):
            return self._sender.skip(
                attempt, "the goal's alert was deleted; a correction would have nothing to reply to"
            )
        facts = self._facts(fixture, attempt.notification, NotificationKind.CANCELLED)
        text = self._followup_text(self._settings.templates.cancelled, facts, attempt, goal_notifications)
        return self._sender.post(attempt, text, in_reply_to=alert.get("post_id"), in_reply_to_key=alert["key"])

    def _deliver_reinstatement(
        self,
        attempt: Attempt,
        fixture: Mapping[str, Any],
        alert: Mapping[str, Any] | None,
        goal_notifications: list[dict[str, Any]],
    ) -> DeliveryResult:
        if alert is None or not self._announced(alert):
            # No alert of the goal reached the account, so announce it now,
            # with the score of its moment, as its alert would have.
            facts = self._facts(fixture, attempt.notification, NotificationKind.GOAL)
            text = compose(self._settings.templates.alert, facts)
            return self._sender.post(attempt, text, in_reply_to=None, in_reply_to_key=None)

        facts = self._facts(fixture, attempt.notification, NotificationKind.REINSTATED)
        text = self._followup_text(self._settings.templates.reinstated, facts, attempt, goal_notifications)
        if alert.get("deleted_at"):
            return self._sender.post(attempt, text, in_reply_to=None, in_reply_to_key=None)
        return self._sender.post(attempt, text, in_reply_to=alert.get("post_id"), in_reply_to_key=alert["key"])

    def _search_clips(
        self, result: DeliveryResult, notification: Mapping[str, Any], facts: GoalFacts
    ) -> DeliveryResult:
        assert self._clip_searcher is not None
        clip_query = build_clip_query(
            scorer=facts.scorer,
            home=facts.home,
            away=facts.away,
            goal_seen_at=notification["created_at"],
            now=self._clock(),
            minutes_before=self._settings.clip_minutes_before,
            minutes_after=self._settings.clip_minutes_after,
        )
        if clip_query is None:
            self._log.info(f"clip search skipped for {result.key}: the scorer is unknown")
            return result

        urls: list[str] = []
        error_text: str | None = None
        try:
            urls = self._clip_searcher.search(clip_query)
        except XApiError as error:
            # The alert is out; clips are a bonus and never fail the run.
            error_text = str(error)
            self._log.warning(f"clip search for {result.key} failed: {error}")
        store.store_clips(
            self._database, result.key, urls=urls, query=clip_query.query, error=error_text, now=self._clock()
        )
        if urls:
            self._log.info(f"clip search for {result.key} found {len(urls)} posts: {', '.join(urls)}")
        return result.with_clips(tuple(urls))

    def _unclaimable(self, key: str, run_id: str) -> DeliveryResult:
        """Return the stored outcome of a finished notification, or raise why it cannot be claimed."""
        current = store.find_notification(self._database, key) or {}
        state = current.get("state")
        if state in (NotificationState.POSTED, NotificationState.DRY_RUN, NotificationState.SKIPPED):
            self._log.info(f"notification {key} is already {state} (run {current.get('run_id')}); nothing to do")
            return DeliveryResult(
                key=key,
                kind=current.get("kind", ""),
                state=NotificationState(state),
                action=current.get("action"),
                text=current.get("text"),
                post_id=current.get("post_id"),
                in_reply_to=current.get("in_reply_to"),
                in_reply_to_key=current.get("in_reply_to_key"),
                deleted_post_id=current.get("deleted_post_id"),
                skip_reason=current.get("skip_reason"),
                clip_urls=tuple(current.get("clip_urls") or ()),
                already_done=True,
            )
        if state == NotificationState.FAILED:
            raise DeliveryError(
                f"notification {key} failed in run {current.get('run_id')}: {current.get('error')}. "
                f"Check the X account for the post first. {resend_hint(key)}"
            )
        if state == NotificationState.POSTING:
            raise DeliveryError(_held_by_other_run(key, current))
        raise DeliveryError(
            f"notification {key} could not be claimed by run {run_id}: its state is {state!r}; "
            "it may have changed during the claim, so re-execute the run"
        )

    def _load_fixture(self, attempt: Attempt) -> Mapping[str, Any]:
        fixture_id = attempt.notification["fixture_id"]
        for name in FIXTURE_COLLECTIONS:
            fixture = self._database[name].find_one({"fixture_id": fixture_id}, {"_id": 0, "events": 0})
            if fixture is not None:
                return fixture
        message = (
            f"fixture {fixture_id} of notification {attempt.key} was not found in "
            f"{', '.join(FIXTURE_COLLECTIONS)}; the tick stores both in one transaction, so check "
            "whether the fixture was deleted"
        )
        self._sender.fail(attempt, message)
        raise DeliveryError(message)

    @staticmethod
    def _facts(fixture: Mapping[str, Any], notification: Mapping[str, Any], kind: NotificationKind) -> GoalFacts:
        return goal_facts(
            fixture,
            notification["goal_key"],
            kind,
            alert_elapsed=notification["elapsed"],
            alert_extra=notification.get("extra"),
        )

    def _followup_text(
        self, template: str, facts: GoalFacts, attempt: Attempt, goal_notifications: list[dict[str, Any]]
    ) -> str:
        """Compose a follow-up; if an earlier post of the goal had the same text, number this one.

        A goal withdrawn, reinstated and withdrawn again would repeat the
        first correction word for word, and X rejects repeated text.
        """
        text = compose(template, facts)
        earlier = {item.get("text") for item in goal_notifications if item["key"] != attempt.key}
        if text not in earlier:
            return text
        suffix = f" (update {_followup_number(attempt.key, goal_notifications)})"
        return compose(template, facts, limit=MAX_WEIGHTED_LENGTH - weighted_length(suffix)) + suffix

    def _wait_for_predecessors(self, attempt: Attempt, goal_notifications: list[dict[str, Any]]) -> None:
        """Release the claim and raise RetryableDeliveryError while an earlier notification is unfinished."""
        position = (attempt.notification["created_at"], attempt.key)
        pending = [
            item["key"]
            for item in goal_notifications
            if (item["created_at"], item["key"]) < position and item["state"] in _UNFINISHED
        ]
        if not pending:
            return
        wait = self._settings.predecessor_wait_seconds
        message = (
            f"notification {attempt.key} waits for the earlier notifications of its goal "
            f"({', '.join(pending)}) to finish; retrying in {wait:.0f} s"
        )
        self._sender.release(attempt, message)
        raise RetryableDeliveryError(message, wait_seconds=wait)

    def _announced(self, alert: Mapping[str, Any]) -> bool:
        """Return True if the goal's alert reached the audience this publisher writes to."""
        if alert["state"] == NotificationState.POSTED:
            return True
        return alert["state"] == NotificationState.DRY_RUN and self._sender.dry_run


def _live_post_of_goal(
    alert: Mapping[str, Any], goal_notifications: list[dict[str, Any]]
) -> Mapping[str, Any] | None:
    """Return the goal's newest post that is neither deleted nor a reply, or None."""
    candidates = [alert] + [
        item
        for item in goal_notifications
        if item["kind"] == NotificationKind.REINSTATED.value and item.get("action") == ACTION_POSTED
    ]
    live = [
        item
        for item in candidates
        if item["state"] in _DELIVERED and not item.get("deleted_at") and item.get("action") != ACTION_DELETED
    ]
    return live[-1] if live else None


def _held_by_other_run(key: str, current: Mapping[str, Any]) -> str:
    """Explain a claim left by another run and how the operator resolves it."""
    holder = f"notification {key} is held by run {current.get('run_id')} since {current.get('claimed_at')}"
    resolve = (
        f"If the post is there, set state 'posted' and post_id '<id>' on {{key: '{key}'}} in {NOTIFICATIONS}. "
        "If not, set state 'requested' there and re-execute this run"
    )
    if current.get("sending_at"):
        return (
            f"{holder}, with a request to X in flight that has no recorded outcome, so the post may or may "
            f"not exist. Check the X account. {resolve}"
        )
    return (
        f"{holder}. That run sent nothing to X, so the post most likely does not exist, but it may still be "
        f"running. Check the X account and the run. {resolve}"
    )


def _followup_number(key: str, goal_notifications: list[dict[str, Any]]) -> int:
    """Return the follow-up number that ends the key ("...-cancelled-3" gives 3)."""
    suffix = key.rsplit("-", 1)[-1]
    if suffix.isdigit():
        return int(suffix)
    return len(goal_notifications)
