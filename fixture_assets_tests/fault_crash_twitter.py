"""Request or run twitter jobs in a process that kills itself with SIGKILL at a chosen point.

Crash tests run this module with ``python -m fixture_assets_tests.fault_crash_twitter``.
It uses a Dagster instance kept in ``--dagster-home`` and the X settings of
the environment (``X_*`` variables, as ``XResource.from_env`` reads them).
Kill points, each announced by a ``crash`` JSON line on stdout first:

- ``after-request``: the goal notification sensor has moved every due
  notification to requested and returned its run requests, and no run has
  been launched yet, as when the daemon dies between the two.
- ``after-claim``: the run for ``--key`` has claimed the notification and has
  not sent anything to X yet.
- ``after-post``: X has accepted the run's post, and its id is not stored yet.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from dagster import DagsterInstance, RetryPolicy, RunRequest, build_sensor_context

from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import XResource, build_goal_notification_sensor, build_twitter_job
from fixture_assets.defs.twitter.sensors import RUN_KEY_TAG
from fixture_assets.store import notifications as notification_store
from fixture_assets.twitter import publisher as publisher_module

KILL_POINTS = ("after-request", "after-claim", "after-post")

# The twitter job as the definitions build it, retried without delay.
crash_test_job = build_twitter_job(name="twitter_job", retry_policy=RetryPolicy(max_retries=1))


def run_config(key: str) -> dict[str, Any]:
    return {"ops": {"deliver_goal_notification": {"config": {"notification_key": key}}}}


def launch(request: RunRequest, mongo: MongoResource, instance: DagsterInstance) -> Any:
    """Execute a requested run in this process, as the daemon's run launcher would."""
    return crash_test_job.execute_in_process(
        run_config=request.run_config,
        tags={**request.tags, RUN_KEY_TAG: request.run_key or ""},
        resources={"mongo": mongo, "x": XResource.from_env()},
        instance=instance,
        raise_on_error=False,
    )


def _crash(point: str, **details: Any) -> None:
    print(json.dumps({"event": "crash", "point": point, **details}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def _after(original: Callable[..., Any], point: str, done: Callable[[Any], bool]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if done(result):
            _crash(point)
        return result

    return wrapper


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fixture_assets_tests.fault_crash_twitter", description=__doc__)
    parser.add_argument("--mongo-uri", required=True, help="MongoDB connection string.")
    parser.add_argument("--database", required=True, help="Database with the goal notifications.")
    parser.add_argument("--dagster-home", required=True, help="Folder of the Dagster instance.")
    parser.add_argument("--kill-at", choices=KILL_POINTS, required=True, help="Where the process kills itself.")
    parser.add_argument("--key", help="Notification key of the run, for after-claim and after-post.")
    args = parser.parse_args(argv)

    mongo = MongoResource(uri=args.mongo_uri, database=args.database)
    os.makedirs(args.dagster_home, exist_ok=True)
    instance = DagsterInstance.local_temp(tempdir=args.dagster_home)

    if args.kill_at == "after-request":
        sensor = build_goal_notification_sensor(job=crash_test_job)
        result = sensor(build_sensor_context(instance=instance, resources={"mongo": mongo}))
        keys = [request.run_key for request in result] if isinstance(result, list) else []
        _crash(args.kill_at, requested=keys)

    if args.key is None:
        parser.error(f"--kill-at {args.kill_at} needs --key")
    if args.kill_at == "after-claim":
        notification_store.claim = _after(notification_store.claim, args.kill_at, lambda claimed: claimed is not None)
    else:
        publisher_module.TweepyPublisher.create_post = _after(  # type: ignore[method-assign]
            publisher_module.TweepyPublisher.create_post, args.kill_at, lambda post_id: True
        )
    launch(RunRequest(run_key=args.key, run_config=run_config(args.key)), mongo, instance)
    print(json.dumps({"event": "finished", "key": args.key}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
