"""``goal_notification_sensor``: request one ``twitter_job`` run per due goal notification.

Each tick moves due notifications to requested and returns one RunRequest
each, with the notification key as run key and as the only run config.

A notification can stay requested with no run behind it: the daemon can
stop between this tick's MongoDB update and the run launch, or
DAGSTER_HOME can be wiped. Its runs can also all fail before they claim it,
for example on incomplete X credentials that an operator fixes later, or
die after the claim and before any request to X. Once
``recovery_delay_seconds`` have passed since the last request, and this
Dagster instance has no run of the notification that is still going or
succeeded, the sensor requests it again, up to ``max_requests`` times. A
repeat gets the run key ``<key>-request-<n>`` because Dagster skips a run
key it has seen. The run's claim in MongoDB keeps any of this from posting
twice.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from pymongo.database import Database
from pymongo.errors import PyMongoError

from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter.jobs import twitter_job
from fixture_assets.store import notifications as store
from fixture_assets.store.database import FIXTURE_COLLECTIONS
from fixture_assets.twitter.messages import format_minute

# The tag Dagster puts the run key in (dagster._core.storage.tags.RUN_KEY_TAG).
RUN_KEY_TAG = "dagster/run_key"
TAG_PREFIX = "fixture_assets/"
NOTIFICATION_TAG = TAG_PREFIX + "notification"
_ENDED_WITHOUT_SUCCESS = (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
_NOT_YET_RUNNING = (DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING)
# Longer names are cut in tags. 63 is Dagster's limit for strict tag values,
# which run tags need not follow, but longer values clutter the run list.
_MAX_TAG_VALUE_LENGTH = 63

DEFAULT_INTERVAL_SECONDS = 15
DEFAULT_RECOVERY_DELAY_SECONDS = 300
# Requests of one notification at most, the first included; at the default
# delay the last one comes about an hour after the goal.
DEFAULT_MAX_REQUESTS = 12
# Notifications handled per tick, so one tick stays well under Dagster's 60 s limit.
DEFAULT_BATCH_SIZE = 50


def build_goal_notification_sensor(
    *,
    job: JobDefinition = twitter_job,
    name: str = "goal_notification_sensor",
    interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
    recovery_delay_seconds: float = DEFAULT_RECOVERY_DELAY_SECONDS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    default_status: DefaultSensorStatus = DefaultSensorStatus.RUNNING,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SensorDefinition:
    """Build the sensor. ``recovery_delay_seconds`` is how long a requested notification may lack a run."""

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=interval_seconds,
        default_status=default_status,
        description="Requests one twitter_job run per goal notification in state due, and re-requests "
        "notifications left requested without a run.",
    )
    def goal_notification_sensor(
        context: SensorEvaluationContext, mongo: MongoResource
    ) -> list[RunRequest] | SkipReason:
        now = clock()
        try:
            database = mongo.get_database()
            stale = store.find_stale_requested(
                database, requested_before=now - timedelta(seconds=recovery_delay_seconds), limit=batch_size
            )
            due = store.find_due(database, limit=batch_size)
            fixtures = _load_fixtures(database, {item["fixture_id"] for item in [*stale, *due]})
            abandoned = store.find_abandoned_claims(database, now=now, limit=batch_size)
            fixtures = {**fixtures, **_load_fixtures(database, {item["fixture_id"] for item in abandoned})}
            run_requests = _recover(context, database, stale, fixtures, now, max_requests)
            run_requests += _recover_abandoned(context, database, abandoned, fixtures, now)
            run_requests += _request_due(context, database, due, fixtures, now)
        except PyMongoError as error:
            # A dropped request is made again once MongoDB responds, because
            # its notification is still due or stale in MongoDB.
            message = f"MongoDB at {mongo.display_uri} failed: {type(error).__name__}: {error}. The next tick retries."
            context.log.error(message)
            return SkipReason(message)

        if run_requests:
            return run_requests
        with_runs = f"; {len(stale)} stale requested notifications already have runs" if stale else ""
        return SkipReason(
            f"no goal notification is due, and none has waited in state requested for more than "
            f"{recovery_delay_seconds:.0f} s without a run{with_runs}"
        )

    return goal_notification_sensor


goal_notification_sensor = build_goal_notification_sensor()


def _request_due(
    context: SensorEvaluationContext,
    database: Database,
    due: list[dict[str, Any]],
    fixtures: Mapping[int, Mapping[str, Any]],
    now: datetime,
) -> list[RunRequest]:
    run_requests = []
    for notification in due:
        if not store.mark_requested(database, notification["key"], now=now):
            context.log.warning(f"notification {notification['key']} left state due during the tick; not requested")
            continue
        run_requests.append(_run_request(notification, fixtures.get(notification["fixture_id"]), run_key=notification["key"]))
        context.log.info(f"requested a twitter_job run for notification {notification['key']}")
    return run_requests


def _recover(
    context: SensorEvaluationContext,
    database: Database,
    stale: list[dict[str, Any]],
    fixtures: Mapping[int, Mapping[str, Any]],
    now: datetime,
    max_requests: int,
) -> list[RunRequest]:
    run_requests = []
    for notification in stale:
        key = notification["key"]
        runs = _runs_of(context, key)
        if any(run.status not in _ENDED_WITHOUT_SUCCESS for run in runs):
            # A run is queued, running or succeeded: nothing to recover.
            store.mark_run_seen(database, key, now=now)
            continue

        requests_so_far = notification.get("request_count") or 1
        if runs and requests_so_far >= max_requests:
            store.mark_run_seen(database, key, now=now)
            context.log.error(
                f"notification {key} was requested {requests_so_far} times and every run failed; it is not requested "
                "again. Fix the cause shown in its runs, then set its state to requested in MongoDB."
            )
            continue
        if not store.renew_request(database, key, previous_requested_at=notification["requested_at"], now=now):
            continue

        reason = "every run of it failed" if runs else "this Dagster instance has no run of it"
        context.log.warning(
            f"notification {key} was requested at {notification['requested_at']} but {reason}; requesting it again"
        )
        run_requests.append(_repeated_request(notification, fixtures, has_runs=bool(runs)))
    return run_requests


def _recover_abandoned(
    context: SensorEvaluationContext,
    database: Database,
    abandoned: list[dict[str, Any]],
    fixtures: Mapping[int, Mapping[str, Any]],
    now: datetime,
) -> list[RunRequest]:
    """Request again the notifications whose run died after its claim and before it sent anything.

    The run's Dagster status is not trusted here: a run whose process was
    killed stays STARTED, because the default run launcher cannot check its
    worker. The stale claim is the evidence; only a run not yet started
    makes the sensor wait.
    """
    run_requests = []
    for notification in abandoned:
        key = notification["key"]
        runs = _runs_of(context, key)
        if any(run.status in _NOT_YET_RUNNING for run in runs):
            continue
        if not store.release_abandoned_claim(database, key, previous_claimed_at=notification["claimed_at"], now=now):
            continue
        context.log.warning(
            f"notification {key} was claimed by run {notification.get('run_id')} at {notification['claimed_at']}, "
            "which ended before it sent anything to X; requesting it again"
        )
        run_requests.append(_repeated_request(notification, fixtures, has_runs=bool(runs)))
    return run_requests


def _repeated_request(notification: Mapping[str, Any], fixtures: Mapping[int, Mapping[str, Any]], *, has_runs: bool) -> RunRequest:
    """Build the run request of a notification requested again.

    Dagster never launches a run key twice, so a notification that already
    has runs gets a new key, numbered by its request count.
    """
    key = notification["key"]
    requests_so_far = notification.get("request_count") or 1
    run_key = f"{key}-request-{requests_so_far + 1}" if has_runs else key
    return _run_request(notification, fixtures.get(notification["fixture_id"]), run_key=run_key)


def _runs_of(context: SensorEvaluationContext, key: str) -> list[Any]:
    """Return this instance's runs of a notification, with the tag of every run key it was requested under."""
    by_notification = context.instance.get_runs(filters=RunsFilter(tags={NOTIFICATION_TAG: key}))
    by_run_key = context.instance.get_runs(filters=RunsFilter(tags={RUN_KEY_TAG: key}))
    runs = {run.run_id: run for run in [*by_notification, *by_run_key]}
    return list(runs.values())


def _run_request(notification: Mapping[str, Any], fixture: Mapping[str, Any] | None, *, run_key: str) -> RunRequest:
    key = notification["key"]
    return RunRequest(
        run_key=run_key,
        run_config={"ops": {"deliver_goal_notification": {"config": {"notification_key": key}}}},
        tags=run_tags(notification, fixture),
    )


def run_tags(notification: Mapping[str, Any], fixture: Mapping[str, Any] | None) -> dict[str, str]:
    """Build the run's tags: fixture id, kind, goal, teams, minute and scorer. No secrets."""
    tags = {
        "notification": str(notification["key"]),
        "fixture_id": str(notification["fixture_id"]),
        "kind": str(notification["kind"]),
        "goal_key": str(notification["goal_key"]),
        "minute": format_minute(notification["elapsed"], notification.get("extra")),
    }
    if fixture is not None:
        teams = fixture.get("teams") or {}
        home = (teams.get("home") or {}).get("name") or "?"
        away = (teams.get("away") or {}).get("name") or "?"
        tags["teams"] = f"{home} v {away}"
        record = next(
            (item for item in fixture.get("goal_records") or () if item.get("key") == notification["goal_key"]),
            None,
        )
        tags["scorer"] = (record or {}).get("player_name") or "unknown"
    return {TAG_PREFIX + name: _tag_value(value) for name, value in tags.items()}


def _tag_value(value: str) -> str:
    value = " ".join(value.split())
    if len(value) <= _MAX_TAG_VALUE_LENGTH:
        return value
    return value[: _MAX_TAG_VALUE_LENGTH - 1] + "…"


def _load_fixtures(database: Database, fixture_ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
    ids = list(fixture_ids)
    if not ids:
        return {}
    fixtures: dict[int, Mapping[str, Any]] = {}
    projection = {"_id": 0, "fixture_id": 1, "teams": 1, "goal_records": 1}
    for name in FIXTURE_COLLECTIONS:
        for document in database[name].find({"fixture_id": {"$in": ids}}, projection):
            fixtures[document["fixture_id"]] = document
    return fixtures
