"""Send a claimed notification to X and store the outcome, so that nothing is posted twice.

``Sender`` works on a notification that a run has claimed (state posting,
with the run's id):

1. Just before a request to X, ``sending_at`` is set. After a response that
   proves nothing was created (429, 401, another 4xx), it is cleared. A
   notification left in posting with ``sending_at`` set has an unknown
   outcome, and no run posts it again until an operator decides.
2. The post id and text are stored with the final state, conditional on the
   run still holding the claim.

A 5xx or a failed connection releases the claim (state requested) so that a
retry can post. The post may exist anyway. X then rejects the repeated text
as duplicate content, and the retry fails with a message that explains
this instead of posting twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pymongo.database import Database
from pymongo.errors import PyMongoError

from fixture_assets.store import notifications as store
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.notifications import NotificationState
from fixture_assets.twitter.publisher import (
    Publisher,
    XApiError,
    XCredentialsRejected,
    XDuplicateContent,
    XRateLimited,
    XServerError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Action values stored on a delivered notification.
ACTION_POSTED = "posted"
ACTION_REPLIED = "replied"
ACTION_DELETED = "deleted"


class Log(Protocol):
    """The logging calls delivery makes; a ``logging.Logger`` and Dagster's ``context.log`` both fit."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...

    def error(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """How a run handles X's 429 responses."""

    # A reset at most this far ahead is waited out inside the run.
    max_wait_seconds: float = 900.0
    # Waits inside one attempt before the claim is released for a later retry.
    max_waits: int = 3
    # Added to the reset time, because X's clock and ours differ slightly.
    margin_seconds: float = 1.0
    # Wait when a 429 has no x-rate-limit-reset header. X's windows are 15 minutes.
    default_wait_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What a run did with one notification."""

    key: str
    kind: str
    state: NotificationState
    action: str | None = None
    text: str | None = None
    post_id: str | None = None
    in_reply_to: str | None = None
    in_reply_to_key: str | None = None
    deleted_post_id: str | None = None
    skip_reason: str | None = None
    clip_urls: tuple[str, ...] = ()
    # True when an earlier run had already finished the notification.
    already_done: bool = False

    def with_clips(self, clip_urls: tuple[str, ...]) -> DeliveryResult:
        return replace(self, clip_urls=clip_urls)


class DeliveryError(Exception):
    """Delivery failed in a way that a retry of the same run cannot fix."""


class RetryableDeliveryError(DeliveryError):
    """Delivery failed for now and the claim was released, so a retry may post.

    ``wait_seconds`` is how long to wait before retrying, or None to use the
    retry policy's backoff.
    """

    def __init__(self, message: str, *, wait_seconds: float | None = None) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass(slots=True)
class Attempt:
    """One claim of one notification by one run."""

    notification: dict[str, Any]
    run_id: str
    # True from just before a request to X until its outcome is known.
    in_flight: bool = False

    @property
    def key(self) -> str:
        return str(self.notification["key"])


class Sender:
    """Posts, deletes or records claimed notifications and stores each outcome."""

    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        rate_limit: RateLimitPolicy,
        *,
        log: Log = logger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._rate_limit = rate_limit
        self._log = log
        self._clock = clock
        self._sleep = sleep

    @property
    def dry_run(self) -> bool:
        return self._publisher.dry_run

    def post(
        self,
        attempt: Attempt,
        text: str,
        *,
        in_reply_to: str | None,
        in_reply_to_key: str | None,
    ) -> DeliveryResult:
        """Post ``text``, as a reply when ``in_reply_to_key`` names the notification replied to."""
        action = ACTION_REPLIED if in_reply_to_key else ACTION_POSTED
        if self.dry_run:
            return self.record_dry_run(attempt, text, action, in_reply_to_key)

        post_id = self._send(attempt, text, lambda: self._publisher.create_post(text, in_reply_to=in_reply_to))
        self._store_posted(attempt, text=text, post_id=post_id, action=action, in_reply_to=in_reply_to)
        self._log.info(f"{action} notification {attempt.key} as post {post_id}:\n{text}")
        return self.result(
            attempt,
            NotificationState.POSTED,
            action=action,
            text=text,
            post_id=post_id,
            in_reply_to=in_reply_to,
            in_reply_to_key=in_reply_to_key,
        )

    def delete(self, attempt: Attempt, target: Mapping[str, Any]) -> DeliveryResult:
        """Delete the post of the notification ``target`` and record that on both notifications."""
        if self.dry_run:
            return self.record_dry_run(attempt, None, ACTION_DELETED, target["key"])
        if not target.get("post_id"):
            return self.skip(attempt, f"notification {target['key']} has no post id to delete")
        post_id = str(target["post_id"])

        existed = self._send(attempt, None, lambda: self._publisher.delete_post(post_id))
        if not existed:
            self._log.warning(
                f"post {post_id} of notification {target['key']} was already gone when {attempt.key} deleted it"
            )
        self._store_posted(attempt, text=None, post_id=None, action=ACTION_DELETED, deleted_post_id=post_id)
        store.mark_post_deleted(self._database, target["key"], deleted_by=attempt.key, now=self._clock())
        self._log.info(f"deleted post {post_id} of notification {target['key']} for {attempt.key}")
        return self.result(
            attempt,
            NotificationState.POSTED,
            action=ACTION_DELETED,
            deleted_post_id=post_id,
            in_reply_to_key=target["key"],
        )

    def record_dry_run(
        self, attempt: Attempt, text: str | None, action: str, in_reply_to_key: str | None
    ) -> DeliveryResult:
        stored = store.mark_dry_run(
            self._database,
            attempt.key,
            run_id=attempt.run_id,
            text=text,
            action=action,
            in_reply_to_key=in_reply_to_key,
            now=self._clock(),
        )
        self._require_claim(stored, attempt)
        target = f" (on {in_reply_to_key})" if in_reply_to_key else ""
        shown = f":\n{text}" if text is not None else ""
        self._log.info(f"dry run: notification {attempt.key} would be {action}{target}{shown}")
        return self.result(
            attempt, NotificationState.DRY_RUN, action=action, text=text, in_reply_to_key=in_reply_to_key
        )

    def skip(self, attempt: Attempt, reason: str) -> DeliveryResult:
        stored = store.mark_skipped(
            self._database, attempt.key, run_id=attempt.run_id, reason=reason, now=self._clock()
        )
        self._require_claim(stored, attempt)
        self._log.info(f"skipped notification {attempt.key}: {reason}")
        return self.result(attempt, NotificationState.SKIPPED, skip_reason=reason)

    def fail(self, attempt: Attempt, error: str) -> None:
        if not store.mark_failed(self._database, attempt.key, run_id=attempt.run_id, error=error, now=self._clock()):
            self._log.warning(
                f"notification {attempt.key} could not be marked failed: run {attempt.run_id} no longer holds it"
            )

    def release(self, attempt: Attempt, error: str) -> None:
        store.release_claim(self._database, attempt.key, run_id=attempt.run_id, error=error, now=self._clock())

    def release_after_unexpected(self, attempt: Attempt, error: Exception) -> None:
        """Give the claim back after an unexpected error, unless a request to X may be in flight."""
        if attempt.in_flight:
            self._log.error(
                f"notification {attempt.key}: {type(error).__name__} while a request to X was in flight; "
                "the claim stays so that nothing is posted twice"
            )
            return
        try:
            self.release(attempt, f"{type(error).__name__}: {error}")
        except PyMongoError as release_error:
            self._log.error(f"notification {attempt.key}: releasing the claim failed: {release_error}")

    @staticmethod
    def result(attempt: Attempt, state: NotificationState, **fields: Any) -> DeliveryResult:
        return DeliveryResult(key=attempt.key, kind=attempt.notification["kind"], state=state, **fields)

    def _send(self, attempt: Attempt, text: str | None, request: Callable[[], T]) -> T:
        """Make one request to X for a claimed notification, waiting out short rate limits.

        Returns the request's result; for a duplicate post whose id is
        already stored, returns that id. Updates the notification's state
        before raising.
        """
        waits = 0
        while True:
            self._require_claim(
                store.mark_sending(self._database, attempt.key, run_id=attempt.run_id, text=text, now=self._clock()),
                attempt,
            )
            attempt.in_flight = True
            try:
                return request()
            except XRateLimited as error:
                attempt.in_flight = False
                store.clear_sending(self._database, attempt.key, run_id=attempt.run_id, now=self._clock())
                wait = self._rate_limit_wait(error)
                if wait > self._rate_limit.max_wait_seconds or waits >= self._rate_limit.max_waits:
                    self.release(attempt, str(error))
                    raise RetryableDeliveryError(
                        f"notification {attempt.key}: {error}; retrying in {wait:.0f} s", wait_seconds=wait
                    ) from error
                waits += 1
                self._log.warning(
                    f"notification {attempt.key}: {error}; waiting {wait:.1f} s for the rate-limit reset"
                )
                self._sleep(wait)
            except XServerError as error:
                attempt.in_flight = False
                self.release(attempt, str(error))
                raise RetryableDeliveryError(
                    f"notification {attempt.key}: {error}; the retry policy will retry"
                ) from error
            except XDuplicateContent as error:
                return self._on_duplicate(attempt, error)  # type: ignore[return-value]
            except XCredentialsRejected as error:
                attempt.in_flight = False
                self.fail(attempt, str(error))
                raise DeliveryError(f"notification {attempt.key}: {error}") from error
            except XApiError as error:
                attempt.in_flight = False
                self.fail(attempt, str(error))
                raise DeliveryError(
                    f"notification {attempt.key}: {error}. Nothing was posted. {resend_hint(attempt.key)}"
                ) from error

    def _on_duplicate(self, attempt: Attempt, error: XDuplicateContent) -> str:
        attempt.in_flight = False
        current = store.find_notification(self._database, attempt.key) or {}
        if current.get("post_id"):
            self._log.warning(
                f"notification {attempt.key}: X reports duplicate content and post {current['post_id']} "
                "is already stored; counting it as posted"
            )
            return str(current["post_id"])
        message = (
            f"notification {attempt.key}: {error}, and no post id is stored for it. An earlier attempt "
            "probably created the post before its response was lost. Check the account; if the post is "
            f"there, set state 'posted' and post_id '<id>' on {{key: '{attempt.key}'}} in {NOTIFICATIONS}"
        )
        self.fail(attempt, message)
        raise DeliveryError(message) from error

    def _store_posted(
        self,
        attempt: Attempt,
        *,
        text: str | None,
        post_id: str | None,
        action: str,
        in_reply_to: str | None = None,
        deleted_post_id: str | None = None,
    ) -> None:
        done = post_id or deleted_post_id
        try:
            stored = store.mark_posted(
                self._database,
                attempt.key,
                run_id=attempt.run_id,
                text=text,
                post_id=post_id,
                action=action,
                in_reply_to=in_reply_to,
                deleted_post_id=deleted_post_id,
                now=self._clock(),
            )
        except PyMongoError as error:
            raise DeliveryError(
                f"notification {attempt.key} was {action} on X (post {done}) but storing that in MongoDB "
                f"failed ({type(error).__name__}: {error}). Set state 'posted' and post_id on "
                f"{{key: '{attempt.key}'}} in {NOTIFICATIONS} by hand; no run will post it again"
            ) from error
        attempt.in_flight = False
        if not stored:
            raise DeliveryError(
                f"notification {attempt.key} was {action} on X (post {done}) but run {attempt.run_id} no "
                "longer holds its claim, so the outcome was not stored; someone changed the notification "
                "during the run. Store the post id by hand"
            )

    def _rate_limit_wait(self, error: XRateLimited) -> float:
        if error.reset_at is None:
            return self._rate_limit.default_wait_seconds
        remaining = error.reset_at - self._clock().timestamp()
        return max(0.0, remaining) + self._rate_limit.margin_seconds

    @staticmethod
    def _require_claim(stored: bool, attempt: Attempt) -> None:
        if not stored:
            raise DeliveryError(
                f"run {attempt.run_id} lost its claim on notification {attempt.key}: the document changed "
                "during the run. Check its state in MongoDB before re-executing"
            )


def resend_hint(key: str) -> str:
    """Tell the operator how to send a failed notification again."""
    return (
        f"To send it again after fixing the cause, set state 'requested' on {{key: '{key}'}} in "
        f"{NOTIFICATIONS} and re-execute the run"
    )
