"""MongoDB faults under the real minute sensor: failed writes, closed connections, a server that is down.

Each failed tick must store nothing, return a skip reason that names MongoDB
and the error, and log one error line, with repeats counted. The next good
tick must catch up, so the replayed match ends with exactly the expected
alerts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo.monitoring import CommandListener, CommandStartedEvent

from fixture_assets.defs import resources as resources_module
from fixture_assets.defs.fixtures.resources import PollingResource
from fixture_assets.defs.resources import MongoResource
from fixture_assets.replay.runner import compare_report, load_expect, read_report
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.database import connect, ensure_indexes
from fixture_assets.store.embedded_server import EmbeddedMongo, free_port

from .conftest import SCENARIOS_DIR
from .fault_replay import MinuteSensorReplay, skip_message

pytestmark = pytest.mark.faults

# The commands that write inside a tick's transaction.
WRITE_COMMANDS = frozenset({"insert", "update", "delete", "commitTransaction"})
SKIP_PREFIX = "MongoDB at mongodb://"
NEXT_STEP = "Nothing of this tick was stored; the next tick polls again."


class WriteCounter(CommandListener):
    """Count the write commands one client starts."""

    def __init__(self) -> None:
        self.writes = 0

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in WRITE_COMMANDS:
            self.writes += 1

    def succeeded(self, event: object) -> None:
        pass

    def failed(self, event: object) -> None:
        pass


@dataclass
class CountedMongo:
    resource: MongoResource
    counter: WriteCounter
    database: Any


@pytest.fixture
def counted_mongo(mongo_uri: str, mongo_client: pymongo.MongoClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Make MongoResources whose clients count their write commands, each on a fresh database."""
    created: list[str] = []

    def make() -> CountedMongo:
        counter = WriteCounter()
        # A URI of its own, so the resource's client cache creates a client with this listener.
        marker = f"appname=fault-{uuid.uuid4().hex[:8]}"
        uri = f"{mongo_uri}{'&' if '?' in mongo_uri else '?'}{marker}"
        monkeypatch.setattr(resources_module, "connect", partial(connect, event_listeners=[counter]))
        name = f"faults_{uuid.uuid4().hex[:10]}"
        created.append(name)
        resource = MongoResource(uri=uri, database=name)
        database = resource.get_database()
        monkeypatch.setattr(resources_module, "connect", connect)
        return CountedMongo(resource, counter, database)

    yield make
    for name in created:
        mongo_client.drop_database(name)


def fail_writes(client: pymongo.MongoClient, skip: int, data: dict[str, Any], times: int) -> None:
    """Fail ``times`` write commands after letting ``skip`` of them through."""
    client.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"skip": skip, "times": times},
            "data": {"failCommands": sorted(WRITE_COMMANDS), **data},
        }
    )


def failpoint_off(client: pymongo.MongoClient) -> None:
    client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def scenario(name: str) -> tuple[ScenarioSource, dict[str, Any]]:
    path = SCENARIOS_DIR / f"{name}.json"
    return ScenarioSource.from_file(path), load_expect(path)


def writes_per_poll(source: ScenarioSource, mongo: CountedMongo) -> list[int]:
    """Replay without faults and count the write commands of each poll's tick."""
    counts = []
    with MinuteSensorReplay(source, mongo.resource) as replay:
        replay.discover()
        for _, at in replay.polls():
            mongo.counter.writes = 0
            replay.evaluate(at)
            counts.append(mongo.counter.writes)
    return counts


# With a transaction timeout of 0 the store gives up on the first transient
# error, so a closed connection fails the tick as an error code does.
NO_RETRY = PollingResource(transaction_timeout_s=0)
# A tick that stores a notification or moves a fixture sends at least three
# writes: two bulk writes and the commit. Ticks with fewer are not failed.
DECISIVE_WRITES = 3
ERROR_CODE = {"errorCode": 2}
CLOSED_CONNECTION = {"closeConnection": True}


def evaluate_with_failure(replay: MinuteSensorReplay, client: pymongo.MongoClient, at, write: int, data: dict[str, Any], polling: PollingResource | None = None):
    """Evaluate the sensor with the tick's write number ``write`` (from 0) failing once."""
    fail_writes(client, write, data, times=1)
    try:
        return replay.evaluate(at, polling=polling)
    finally:
        failpoint_off(client)


@pytest.mark.parametrize("name", ["tc02-var-cancel-without-var-event", "match-lifecycle-ns-to-ft"])
def test_each_write_failed_in_turn(shared_dir, mongo_client, counted_mongo, name) -> None:
    source, expect = scenario(name)
    counts = writes_per_poll(source, counted_mongo())
    mongo = counted_mongo()
    # (poll, write aimed at, writes sent, skip reason) of every failed tick.
    failed_ticks: list[tuple[int, int, int, str]] = []
    error_lines_by_poll: list[list[str]] = []
    committed_by_retry: list[str] = []

    with MinuteSensorReplay(source, mongo.resource) as replay:
        replay.discover()
        for index, at in replay.polls():
            replay.clear_lines()
            writes = counts[index] if counts[index] >= DECISIVE_WRITES else 0
            # A failed tick leaves nothing behind, so the same poll is played
            # again with the next failure. The commit, the last write, fails
            # last, by a closed connection: the driver and the store retry a
            # commit, so that tick succeeds and stores the poll once. An error
            # code on the commit is left out: failCommand fails it before
            # the server sees the commit, so the transaction stays open until
            # SecantusDB aborts it after 60 s, which a real commit error does
            # not do (test_store_fixtures covers that case without a restart).
            before_commit = range(writes - 1)
            failures = [(write, ERROR_CODE, NO_RETRY) for write in before_commit]
            failures += [(write, CLOSED_CONNECTION, NO_RETRY) for write in before_commit]
            for write, data, polling in failures:
                mongo.counter.writes = 0
                result = evaluate_with_failure(replay, mongo_client, at, write, data, polling)
                failed_ticks.append((index, write, mongo.counter.writes, skip_message(result)))

            if writes:
                result = evaluate_with_failure(replay, mongo_client, at, writes - 1, CLOSED_CONNECTION)
            else:
                result = replay.evaluate(at)
            committed_by_retry.append(skip_message(result))
            error_lines_by_poll.append(replay.lines(logging.ERROR))

    report = read_report(mongo.database)

    swept = [count for count in counts if count >= DECISIVE_WRITES]
    assert len(swept) >= 2
    assert len(failed_ticks) == sum(2 * (count - 1) for count in swept)
    for index, write, sent, reason in failed_ticks:
        where = f"poll {index}, write {write}: {reason}"
        assert reason.startswith(SKIP_PREFIX), where
        assert reason.endswith(NEXT_STEP), where
        assert "OperationFailure: Failing command via 'failCommand' failpoint" in reason or "AutoReconnect: " in reason, where
        # The failure hit the write it was aimed at, and nothing after it was sent.
        assert sent == write + 1, where
    for index, reason in enumerate(committed_by_retry):
        assert not reason.startswith(SKIP_PREFIX), f"poll {index}: {reason}"
    for index, lines in enumerate(error_lines_by_poll):
        # One line per kind of failure (OperationFailure, AutoReconnect), however often it repeated.
        assert len(lines) == (2 if counts[index] >= DECISIVE_WRITES else 0), (index, lines)
    assert compare_report(report, expect) == []


def test_closed_connection_message_names_cause(shared_dir, mongo_client, counted_mongo) -> None:
    source, _ = scenario("tc02-var-cancel-without-var-event")
    mongo = counted_mongo()

    with MinuteSensorReplay(source, mongo.resource) as replay:
        replay.discover()
        result = evaluate_with_failure(replay, mongo_client, source.polls[1].at, 0, CLOSED_CONNECTION, NO_RETRY)

    reason = skip_message(result)
    assert "AutoReconnect: " in reason
    assert "connection closed" in reason
    assert "write conflicts" not in reason


def test_server_down_for_two_ticks(shared_dir, tmp_path: Path) -> None:
    source, expect = scenario("match-lifecycle-ns-to-ft")
    # The first goal is decided at poll 4 and still counted at poll 6.
    down = {4, 5}
    server = EmbeddedMongo(tmp_path / "mongo", log_path=tmp_path / "mongo.log").start()
    mongo = MongoResource(uri=server.uri, database="fixture_assets")
    results = {}
    try:
        with MinuteSensorReplay(source, mongo) as replay:
            replay.discover()
            for index, at in replay.polls():
                if index == min(down):
                    server.stop()
                    replay.clear_lines()
                if index == max(down) + 1:
                    server.start()
                results[index] = replay.evaluate(at)
                if index == max(down) + 1:
                    errors, infos = replay.lines(logging.ERROR), replay.lines(logging.INFO)
        report = read_report(mongo.get_database())
    finally:
        server.stop()

    for index in down:
        reason = skip_message(results[index])
        assert reason.startswith(f"{SKIP_PREFIX}127.0.0.1:{server.port}/: ServerSelectionTimeoutError"), reason
        assert reason.endswith(NEXT_STEP), reason
    assert len(errors) == 1
    assert "ServerSelectionTimeoutError" in errors[0]
    assert any("resolved after 2 occurrences" in line and "mongodb:" in line for line in infos)
    assert compare_report(report, expect) == []


def test_sensor_skips_when_mongodb_never_answered(shared_dir) -> None:
    source, _ = scenario("tc02-var-cancel-without-var-event")
    # Nothing listens on this port: the process has never reached its MongoDB.
    mongo = MongoResource(uri=f"mongodb://127.0.0.1:{free_port()}/", database="fixture_assets")

    with MinuteSensorReplay(source, mongo) as replay:
        result = replay.evaluate(source.polls[0].at)
        errors = replay.lines(logging.ERROR)

    reason = skip_message(result)
    assert reason.startswith(f"{SKIP_PREFIX}127.0.0.1:"), reason
    assert "ServerSelectionTimeoutError" in reason
    assert reason.endswith(NEXT_STEP)
    assert errors == [reason]
    assert result.run_requests == []


def test_report_failure_keeps_stored_tick(shared_dir, mongo_client, counted_mongo) -> None:
    source, expect = scenario("tc02-var-cancel-without-var-event")
    mongo = counted_mongo()
    asset_events: dict[int, list[Any]] = {}
    errors: dict[int, list[str]] = {}

    with MinuteSensorReplay(source, mongo.resource) as replay:
        replay.discover()
        for index, at in replay.polls():
            replay.clear_lines()
            if index == 1:
                # The tick's own aggregate (the tracked set) passes, the
                # status count behind the materializations fails.
                mongo_client.admin.command(
                    {
                        "configureFailPoint": "failCommand",
                        "mode": {"skip": 1, "times": 1},
                        "data": {"failCommands": ["aggregate"], **ERROR_CODE},
                    }
                )
            try:
                result = replay.evaluate(at)
            finally:
                failpoint_off(mongo_client)
            asset_events[index] = result.asset_events
            errors[index] = replay.lines(logging.ERROR)

    report = read_report(mongo.database)

    assert asset_events[1] == []
    # The withdrawal in a later poll is reported as usual.
    assert any(events for index, events in asset_events.items() if index > 1)
    assert len(errors[1]) == 1
    assert "failed after the tick was stored (OperationFailure" in errors[1][0]
    assert all(not lines for index, lines in errors.items() if index != 1)
    assert compare_report(report, expect) == []
