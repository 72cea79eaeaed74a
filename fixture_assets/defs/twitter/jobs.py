"""``twitter_job``: one run per goal notification, launched by ``goal_notification_sensor``.

The run config names only the notification key. Whether anything is posted
is decided by the claim on the notification in MongoDB (see
``fixture_assets.twitter.delivery``), so re-executing a run is safe.

Retries: a 5xx or a failed connection retries the step through the op's
RetryPolicy with exponential backoff. A rate limit that resets too late to
wait inside the run, and a follow-up whose alert is not finished yet, retry
through RetryRequested after the wait they need. A 401, a duplicate post
without a stored id, an invalid X or MongoDB setting and any other permanent
error fail at once, without retry.
"""

from collections.abc import Iterator

from dagster import (
    Backoff,
    Config,
    Failure,
    Jitter,
    JobDefinition,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    RetryPolicy,
    RetryRequested,
    job,
    op,
)
from pydantic import Field

from fixture_assets.defs.failures import configuration_failures
from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter.resources import XConfigurationError, XResource
from fixture_assets.twitter.delivery import Delivery, DeliveryError, DeliveryResult, RetryableDeliveryError

# Dagster 1.13 waits (2**n - 1) * delay before retry n, +-delay with PLUS_MINUS
# jitter: 10, 30, 70 and 150 s, so the retries span an X outage of about 4 minutes.
DEFAULT_RETRY_POLICY = RetryPolicy(max_retries=4, delay=10, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
# Retries that wait for a rate-limit reset or for the goal's alert to finish.
# With 30 s per wait, a follow-up waits up to 10 minutes for its alert.
DEFAULT_MAX_WAIT_RETRIES = 20


class NotificationConfig(Config):
    notification_key: str = Field(
        description="Key of the goal_notifications document to deliver, "
        "e.g. 1153127-1132-1 or 1153127-1132-1-cancelled-1."
    )


def build_twitter_job(
    *,
    name: str = "twitter_job",
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    max_wait_retries: int = DEFAULT_MAX_WAIT_RETRIES,
) -> JobDefinition:
    """Build the twitter job. Tests pass a retry policy without delay."""

    @op(
        name="deliver_goal_notification",
        retry_policy=retry_policy,
        out=Out(Nothing),
        description="Claim one goal notification in MongoDB, compose its text and post it on X "
        "(or record it in dry-run mode).",
    )
    def deliver_goal_notification(
        context: OpExecutionContext, config: NotificationConfig, mongo: MongoResource, x: XResource
    ) -> Iterator[Output]:
        key = config.notification_key
        context.log.info(f"delivering notification {key}, retry {context.retry_number}, MongoDB {mongo.display_uri}")
        delivery = _build_delivery(context, mongo, x)
        try:
            result = delivery.deliver(key, context.run_id)
        except RetryableDeliveryError as error:
            retry = _retry(context, delivery, key, error, retry_policy.max_retries, max_wait_retries)
            if retry is error:
                raise
            raise retry from error
        except DeliveryError as error:
            raise Failure(description=str(error), allow_retries=False) from error
        yield Output(None, metadata=_metadata(result))

    @job(
        name=name,
        description="Post one goal alert or follow-up on X; launched by goal_notification_sensor.",
        tags={"fixture_assets/concern": "twitter"},
    )
    def twitter_job() -> None:
        deliver_goal_notification()

    return twitter_job


twitter_job = build_twitter_job()


def _build_delivery(context: OpExecutionContext, mongo: MongoResource, x: XResource) -> Delivery:
    try:
        publisher = x.publisher()
        clip_searcher = x.clip_searcher()
        settings = x.delivery_settings()
    except XConfigurationError as error:
        raise Failure(description=f"the x resource is misconfigured: {error}", allow_retries=False) from None
    if publisher.dry_run:
        context.log.warning(
            "dry-run mode: the X posting credentials are not set, or dry_run is true. "
            "Texts are recorded, not posted"
        )
    with configuration_failures():
        database = mongo.get_database()
    return Delivery(database, publisher, settings, clip_searcher=clip_searcher, log=context.log)


def _retry(
    context: OpExecutionContext,
    delivery: Delivery,
    key: str,
    error: RetryableDeliveryError,
    max_retries: int,
    max_wait_retries: int,
) -> Exception:
    """Return the exception that retries the step, or a Failure after the last retry."""
    limit = max_retries if error.wait_seconds is None else max_wait_retries
    if context.retry_number >= limit:
        delivery.give_up(key, context.run_id, str(error))
        return Failure(
            description=f"{error}. Giving up after {context.retry_number} retries",
            allow_retries=False,
        )
    context.log.warning(f"retry {context.retry_number + 1} of {limit} for notification {key}: {error}")
    if error.wait_seconds is None:
        return error
    return RetryRequested(max_retries=max_wait_retries, seconds_to_wait=error.wait_seconds)


def _metadata(result: DeliveryResult) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = {
        "notification_key": MetadataValue.text(result.key),
        "kind": MetadataValue.text(result.kind),
        "state": MetadataValue.text(result.state.value),
        "already_done": MetadataValue.bool(result.already_done),
    }
    optional = {
        "action": result.action,
        "text": result.text,
        "post_id": result.post_id,
        "in_reply_to": result.in_reply_to,
        "in_reply_to_key": result.in_reply_to_key,
        "deleted_post_id": result.deleted_post_id,
        "skip_reason": result.skip_reason,
    }
    for name, value in optional.items():
        if value is not None:
            metadata[name] = MetadataValue.text(value)
    if result.post_id:
        metadata["post_url"] = MetadataValue.url(f"https://x.com/i/web/status/{result.post_id}")
    if result.clip_urls:
        metadata["clip_urls"] = MetadataValue.json(list(result.clip_urls))
    return metadata
