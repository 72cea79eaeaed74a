"""SIGKILL at each step of a tick, and around the twitter run requests: no goal lost, none sent twice.

Tick crashes run ``fault_crash_tick`` in subprocesses. A first process replays a
scenario and kills itself at one step of one tick. A second process then
continues the replay. It starts with the same poll when the tick died before
its commit, and with the next poll when the tick died after it. Every case gets its own
database on the session's SecantusDB, and all cases run at once, because a
process killed inside a transaction leaves it open until SecantusDB aborts it
60 s later, and the restarted process retries until then.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
from dagster import DagsterEventType, ExecuteInProcessResult, RunRequest, build_sensor_context, instance_for_test
from pymongo.database import Database

from fixture_assets.defs.resources import MongoResource
from fixture_assets.defs.twitter import build_goal_notification_sensor
from fixture_assets.defs.twitter.sensors import DEFAULT_RECOVERY_DELAY_SECONDS
from fixture_assets.replay.runner import compare_report, load_expect, read_report, run_scenario
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.database import NOTIFICATIONS, ensure_indexes
from fixture_assets.store.notifications import CLAIM_TAKEOVER_AFTER

from .conftest import REPO_ROOT, SCENARIOS_DIR
from .fault_crash_tick import DURABLE_STEP, FETCH_STEP, STEPS, play
from .fault_crash_twitter import crash_test_job, launch
from .fault_crash_twitter import run_config as crash_run_config
from .twitter_fixtures import x_environment, x_stub  # noqa: F401
from .x_api_stub import CREATE, XApiStub

pytestmark = pytest.mark.faults

CRASH_SCENARIOS = (
    "match-lifecycle-ns-to-ft",
    "tc02-var-cancel-without-var-event",
    "new-goal-after-cancelled-goal",
    "tc11-penalty-shootout-kicks",
)
# Ticks that decide a notification or move a fixture between collections are
# the ones whose interruption could lose or repeat an alert.
_DECISIVE_STEPS = {"after goal_notifications", "after completed_fixtures", "after staged_fixtures"}
# Crash polls per scenario and step: the first and the last decisive tick that reaches the step.
_POLLS_PER_STEP = 2
# The restarted process waits up to 60 s for SecantusDB to abort the killed transaction.
_PROCESS_TIMEOUT_S = 240


@dataclass
class CrashCase:
    scenario: str
    poll: int
    step: str
    database: str
    state_file: Path
    # The report after the tick before the crashed one, and after the crashed tick, in a clean replay.
    report_before: dict[str, Any]
    report_after: dict[str, Any]
    crash_output: list[dict[str, Any]] = field(default_factory=list)
    crash_returncode: int | None = None
    report_at_crash: dict[str, Any] | None = None
    recovery_output: list[dict[str, Any]] = field(default_factory=list)
    recovery_returncode: int | None = None
    recovery_stderr: str = ""
    final_report: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return f"{self.scenario} poll {self.poll} {self.step}"

    @property
    def resume_poll(self) -> int:
        return self.poll + 1 if self.step == DURABLE_STEP else self.poll


def _scenario_path(name: str) -> Path:
    return SCENARIOS_DIR / f"{name}.json"


def _clean_replay(name: str, mongo_uri: str, client: pymongo.MongoClient, tmp_path: Path) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """Replay a scenario in this process; return the steps each poll's tick reached and the report after it."""
    database_name = f"crash_dry_{uuid.uuid4().hex[:10]}"
    database = client[database_name]
    ensure_indexes(database)
    steps_by_poll: list[list[str]] = []
    reports: list[dict[str, Any]] = []

    def record(event: dict[str, Any]) -> None:
        assert event["event"] == "tick", f"the clean replay of {name} reported {event}"
        steps_by_poll.append(event["steps"])
        reports.append(read_report(database))

    try:
        play(
            _scenario_path(name),
            mongo_uri,
            database_name,
            tmp_path / f"{database_name}.state",
            discover=True,
            from_poll=0,
            crash_poll=None,
            crash_step=None,
            retry_deadline_s=10,
            emit=record,
        )
    finally:
        client.drop_database(database_name)
    return steps_by_poll, reports


def _choose_cases(name: str, steps_by_poll: list[list[str]], reports: list[dict[str, Any]], discovered: dict[str, Any], tmp_path: Path) -> list[CrashCase]:
    decisive = [index for index, steps in enumerate(steps_by_poll) if _DECISIVE_STEPS & set(steps)]
    cases = []
    for step in STEPS:
        polls = [index for index in decisive if step in steps_by_poll[index]]
        chosen = sorted({polls[0], polls[-1]})[:_POLLS_PER_STEP] if polls else []
        for poll in chosen:
            database = f"crash_{uuid.uuid4().hex[:10]}"
            cases.append(
                CrashCase(
                    scenario=name,
                    poll=poll,
                    step=step,
                    database=database,
                    state_file=tmp_path / f"{database}.state",
                    report_before=reports[poll - 1] if poll > 0 else discovered,
                    report_after=reports[poll],
                )
            )
    return cases


def _helper_command(case: CrashCase, mongo_uri: str, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fixture_assets_tests.fault_crash_tick",
        "--scenario",
        str(_scenario_path(case.scenario)),
        "--mongo-uri",
        mongo_uri,
        "--database",
        case.database,
        "--state-file",
        str(case.state_file),
        *options,
    ]


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]], str]:
    stdout, stderr = process.communicate(timeout=_PROCESS_TIMEOUT_S)
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return process.returncode, events, stderr


def _discovered_report(name: str, mongo_uri: str, client: pymongo.MongoClient, tmp_path: Path) -> dict[str, Any]:
    """Return the report after discovery alone, before any tick."""
    database_name = f"crash_disc_{uuid.uuid4().hex[:10]}"
    ensure_indexes(client[database_name])
    try:
        play(
            _scenario_path(name),
            mongo_uri,
            database_name,
            tmp_path / f"{database_name}.state",
            discover=True,
            from_poll=10**6,
            crash_poll=None,
            crash_step=None,
            retry_deadline_s=10,
            emit=lambda event: None,
        )
        return read_report(client[database_name])
    finally:
        client.drop_database(database_name)


@pytest.fixture(scope="module")
def crash_cases(shared_dir, mongo_uri, mongo_client, tmp_path_factory) -> Iterator[dict[str, list[CrashCase]]]:
    """Run every crash case, all at once, and return them by scenario with their outcomes."""
    tmp_path = tmp_path_factory.mktemp("crash")
    cases: list[CrashCase] = []
    for name in CRASH_SCENARIOS:
        steps_by_poll, reports = _clean_replay(name, mongo_uri, mongo_client, tmp_path)
        discovered = _discovered_report(name, mongo_uri, mongo_client, tmp_path)
        cases += _choose_cases(name, steps_by_poll, reports, discovered, tmp_path)
    for case in cases:
        ensure_indexes(mongo_client[case.database])

    try:
        crashing = [
            _start(_helper_command(case, mongo_uri, "--discover", "--crash-poll", str(case.poll), "--crash-step", case.step))
            for case in cases
        ]
        for case, process in zip(cases, crashing, strict=True):
            case.crash_returncode, case.crash_output, _ = _finish(process)
            case.report_at_crash = read_report(mongo_client[case.database])

        recovering = [_start(_helper_command(case, mongo_uri, "--from-poll", str(case.resume_poll))) for case in cases]
        for case, process in zip(cases, recovering, strict=True):
            case.recovery_returncode, case.recovery_output, case.recovery_stderr = _finish(process)
            case.final_report = read_report(mongo_client[case.database])

        by_scenario: dict[str, list[CrashCase]] = {name: [] for name in CRASH_SCENARIOS}
        for case in cases:
            by_scenario[case.scenario].append(case)
        yield by_scenario
    finally:
        for case in cases:
            mongo_client.drop_database(case.database)


def _problems(case: CrashCase, expect: dict[str, Any]) -> list[str]:
    """Return what went wrong in one crash case, one line each."""
    problems = []
    crash = case.crash_output[-1] if case.crash_output else None
    if case.crash_returncode != -signal.SIGKILL or crash != {"event": "crash", "poll": case.poll, "step": case.step}:
        problems.append(f"the first process was not killed at the step (exit {case.crash_returncode}, last line {crash})")

    # Nothing of a tick killed before its commit is visible; all of one killed after it is.
    durable = case.step == DURABLE_STEP
    visible = case.report_after if durable else case.report_before
    visible_differences = compare_report(case.report_at_crash or {}, visible)
    if visible_differences:
        seen = "the whole tick" if durable else "nothing of the tick"
        problems.append(f"after the kill, MongoDB should show {seen}: {visible_differences}")

    if case.recovery_returncode != 0:
        problems.append(f"the restarted process failed (exit {case.recovery_returncode}): {case.recovery_stderr[-2000:]}")
    differences = compare_report(case.final_report or {}, expect)
    if differences:
        problems.append(f"the replayed match ended with different decisions: {differences}")
    return [f"{case.name}: {problem}" for problem in problems]


@pytest.mark.parametrize("scenario", CRASH_SCENARIOS)
def test_tick_killed_at_each_step(crash_cases: dict[str, list[CrashCase]], scenario: str) -> None:
    cases = crash_cases[scenario]
    expect = load_expect(_scenario_path(scenario))

    problems = [problem for case in cases for problem in _problems(case, expect)]

    assert {case.step for case in cases} >= {FETCH_STEP, "after goal_notifications", "before commit", DURABLE_STEP}
    assert problems == []


# Crashes around the twitter run requests. The notifications come from a
# replayed match; the X stand-in counts what reaches the account.

MATCH_SCENARIO = "match-lifecycle-ns-to-ft"


def _crash_twitter(mongo_uri: str, database: Database, dagster_home: Path, kill_at: str, key: str | None = None) -> list[dict[str, Any]]:
    """Run ``fault_crash_twitter`` until it kills itself; return its JSON lines."""
    command = [
        sys.executable,
        "-m",
        "fixture_assets_tests.fault_crash_twitter",
        "--mongo-uri",
        mongo_uri,
        "--database",
        database.name,
        "--dagster-home",
        str(dagster_home),
        "--kill-at",
        kill_at,
    ]
    if key is not None:
        command += ["--key", key]
    # The child inherits the X_* variables that x_environment set.
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=_PROCESS_TIMEOUT_S)
    assert completed.returncode == -signal.SIGKILL, completed.stderr[-3000:]
    events = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "crash"
    assert events[-1]["point"] == kill_at
    return events


def _replayed_alerts(database: Database) -> list[str]:
    """Replay a match with three goals into ``database``; return the keys of its due alerts."""
    run_scenario(ScenarioSource.from_file(_scenario_path(MATCH_SCENARIO)), database)
    keys = sorted(document["key"] for document in database[NOTIFICATIONS].find({"state": "due"}))
    assert len(keys) == 3
    return keys


def _recover(
    mongo_uri: str, database: Database, extra_keys: Sequence[str] = (), *, after_s: float = DEFAULT_RECOVERY_DELAY_SECONDS + 1
) -> dict[str, ExecuteInProcessResult]:
    """Recover on a new Dagster instance: evaluate the sensor ``after_s`` later and run what it requests.

    ``extra_keys`` are runs re-executed by hand, as an operator re-executes a failed run.
    """
    mongo = MongoResource(uri=mongo_uri, database=database.name)
    later = datetime.now(UTC) + timedelta(seconds=after_s)
    sensor = build_goal_notification_sensor(job=crash_test_job, clock=lambda: later)
    results: dict[str, ExecuteInProcessResult] = {}
    with instance_for_test() as instance:
        requested = sensor(build_sensor_context(instance=instance, resources={"mongo": mongo}))
        requests = requested if isinstance(requested, list) else []
        requests += [RunRequest(run_key=key, run_config=crash_run_config(key)) for key in extra_keys]
        for request in requests:
            results[request.run_key or ""] = launch(request, mongo, instance)
    return results


def _failure_message(result: ExecuteInProcessResult) -> str:
    [failure] = [event for event in result.all_events if event.event_type is DagsterEventType.STEP_FAILURE]
    return failure.event_specific_data.error.message


def _posted_texts(stub: XApiStub) -> Counter[str]:
    return Counter(post["text"] for post in stub.posts.values())


def test_sensor_killed_before_launch(shared_dir, mongo_uri, mongo_db, x_environment, tmp_path) -> None:
    keys = _replayed_alerts(mongo_db)

    [crash] = _crash_twitter(mongo_uri, mongo_db, tmp_path / "dagster", "after-request")
    states = {document["key"]: document["state"] for document in mongo_db[NOTIFICATIONS].find()}
    requests_before_recovery = list(x_environment.requests)
    results = _recover(mongo_uri, mongo_db)

    assert sorted(crash["requested"]) == keys
    assert set(states.values()) == {"requested"}
    assert requests_before_recovery == []
    assert sorted(results) == keys
    assert all(result.success for result in results.values())
    assert len(x_environment.requests_to(CREATE)) == 3
    assert sorted(_posted_texts(x_environment).values()) == [1, 1, 1]
    assert {document["state"] for document in mongo_db[NOTIFICATIONS].find()} == {"posted"}


def test_run_killed_after_post(shared_dir, mongo_uri, mongo_db, x_environment, tmp_path) -> None:
    keys = _replayed_alerts(mongo_db)

    _crash_twitter(mongo_uri, mongo_db, tmp_path / "dagster", "after-post", keys[0])
    left = mongo_db[NOTIFICATIONS].find_one({"key": keys[0]})
    results = _recover(mongo_uri, mongo_db, extra_keys=[keys[0]])

    assert left["state"] == "posting"
    assert left["sending_at"] is not None
    assert left.get("post_id") is None
    # The sensor leaves a notification with a send in flight alone.
    assert sorted(results) == keys
    assert not results[keys[0]].success
    message = _failure_message(results[keys[0]])
    assert "request to X in flight that has no recorded outcome" in message
    assert "Check the X account" in message
    assert results[keys[1]].success
    assert results[keys[2]].success
    assert len(x_environment.requests_to(CREATE)) == 3
    assert sorted(_posted_texts(x_environment).values()) == [1, 1, 1]


def test_run_killed_after_claim_posts_nothing(shared_dir, mongo_uri, mongo_db, x_environment, tmp_path) -> None:
    keys = _replayed_alerts(mongo_db)

    _crash_twitter(mongo_uri, mongo_db, tmp_path / "dagster", "after-claim", keys[0])
    left = mongo_db[NOTIFICATIONS].find_one({"key": keys[0]})
    # A minute later: the claim is too fresh to take over.
    results = _recover(mongo_uri, mongo_db, extra_keys=[keys[0]], after_s=60)

    assert left["state"] == "posting"
    assert left["sending_at"] is None
    assert not results[keys[0]].success
    message = _failure_message(results[keys[0]])
    assert "That run sent nothing to X" in message
    assert f"{{key: '{keys[0]}'}}" in message
    assert len(x_environment.requests_to(CREATE)) == 2


def _age_claim(database: Database, key: str) -> None:
    """Move the claim's time back past CLAIM_TAKEOVER_AFTER, as if the recovery came later."""
    claimed_at = datetime.now(UTC) - CLAIM_TAKEOVER_AFTER - timedelta(seconds=1)
    database[NOTIFICATIONS].update_one({"key": key}, {"$set": {"claimed_at": claimed_at}})


def test_claim_of_killed_run_taken_over(shared_dir, mongo_uri, mongo_db, x_environment, tmp_path) -> None:
    keys = _replayed_alerts(mongo_db)

    _crash_twitter(mongo_uri, mongo_db, tmp_path / "dagster", "after-claim", keys[0])
    _age_claim(mongo_db, keys[0])
    results = _recover(mongo_uri, mongo_db, extra_keys=[keys[0]])

    assert all(result.success for result in results.values())
    assert len(x_environment.requests_to(CREATE)) == 3
    assert sorted(_posted_texts(x_environment).values()) == [1, 1, 1]
    assert mongo_db[NOTIFICATIONS].find_one({"key": keys[0]})["state"] == "posted"


def test_claim_of_killed_run_requested_again(shared_dir, mongo_uri, mongo_db, x_environment, tmp_path) -> None:
    keys = _replayed_alerts(mongo_db)

    _crash_twitter(mongo_uri, mongo_db, tmp_path / "dagster", "after-claim", keys[0])
    _age_claim(mongo_db, keys[0])
    _recover(mongo_uri, mongo_db)

    assert len(x_environment.requests_to(CREATE)) == 3
    assert mongo_db[NOTIFICATIONS].find_one({"key": keys[0]})["state"] == "posted"
