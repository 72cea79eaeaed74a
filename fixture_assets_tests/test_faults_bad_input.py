"""Generated bad API bodies through the real client and the poll tick: no crash, bad fixtures skipped and logged.

Each example stores its fixtures as a goalless first half, serves a generated
``ids=`` body byte for byte from a replay server, and runs the tick. The good
fixtures of the batch must be stored with their second-half state and goal.
Every other fixture is either applied, or logged with its id and left as it
was stored. A fixture whose id cannot be read makes its requested id missing:
the tick logs that id, fetches it alone next time, and the good fixtures are
stored by that second tick.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.database import Database

from fixture_assets.core.parse import parse_fixture
from fixture_assets.football_api import ApiClientSettings, FootballApiClient, parsing
from fixture_assets.observe import PollSettings, observe_fixtures
from fixture_assets.poller_state import PollerState
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.server import ReplayServer
from fixture_assets.store.database import FIXTURE_COLLECTIONS, NOTIFICATIONS, ensure_indexes
from fixture_assets.store.fixtures import FixtureStore
from fixture_assets.tick import PollFailedError, TickResult, run_tick

from .fault_bad_input import (
    INVALID_UTF8_MARK,
    POLLED_AT,
    SEEDED_AT,
    Batch,
    RawBodySource,
    batches,
    garbage_bodies,
    seeded_item,
    served_item,
)

pytestmark = pytest.mark.faults

# At least 200 generated bodies in all: 150 batches and 60 garbage bodies.
BATCH_EXAMPLES = 150
GARBAGE_EXAMPLES = 60
EXAMPLE_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.lines.append(record.getMessage())


class BadInputRig:
    """A database, a replay server with a raw body and a client, reused by every example of a test."""

    def __init__(self, database: Database, server: ReplayServer, source: RawBodySource) -> None:
        self.database = database
        self.server = server
        self.source = source
        self.store = FixtureStore(database)
        self.log = _Lines()
        self.tick_log = logging.getLogger(f"fault.bad_input.{uuid.uuid4().hex[:6]}")
        self.tick_log.addHandler(self.log)
        self.tick_log.propagate = False

    def reset(self, fixture_ids: list[int], body: bytes) -> None:
        """Store the fixtures as a goalless first half and serve ``body`` from now on."""
        for name in (*FIXTURE_COLLECTIONS, NOTIFICATIONS):
            self.database[name].delete_many({})
        observed = observe_fixtures({}, [parse_fixture(seeded_item(fixture_id)) for fixture_id in fixture_ids], PollSettings(), SEEDED_AT)
        self.store.write(observed.writes, observed.notification_writes, SEEDED_AT)
        self.source.body = body
        self.log.lines.clear()
        # Each example starts without the rejections that earlier ones counted.
        parsing._rejections.clear()

    def tick(self, client: FootballApiClient, state: PollerState, minute: int = 0) -> TickResult:
        from datetime import timedelta

        return run_tick(self.store, client, state, PollSettings(), POLLED_AT + timedelta(minutes=minute), log=self.tick_log)

    def stored(self) -> dict[int, dict[str, Any]]:
        documents = {}
        for name in FIXTURE_COLLECTIONS:
            for document in self.database[name].find({}, {"_id": 0, "events": 0}):
                documents[document["fixture_id"]] = document
        return documents

    def notified(self) -> set[int]:
        return {document["fixture_id"] for document in self.database[NOTIFICATIONS].find({}, {"fixture_id": 1})}


@pytest.fixture
def rig(mongo_client: pymongo.MongoClient) -> Iterator[BadInputRig]:
    name = f"bad_input_{uuid.uuid4().hex[:10]}"
    database = mongo_client[name]
    ensure_indexes(database)
    source = RawBodySource()
    package_logger = logging.getLogger("fixture_assets")
    with ReplayServer(source, clock=VirtualClock(POLLED_AT, speed=0)) as server:
        rig = BadInputRig(database, server, source)
        package_logger.addHandler(rig.log)
        try:
            yield rig
        finally:
            package_logger.removeHandler(rig.log)
    mongo_client.drop_database(name)


def client_for(rig: BadInputRig) -> FootballApiClient:
    return FootballApiClient(ApiClientSettings(base_url=rig.server.url, api_key="bad-input-key", retry_delay_s=0.0))


def readable_ids(batch: Batch) -> set[int]:
    """The requested ids that some item of the body carries as a plain integer ``fixture.id``."""
    found = set()
    for item in batch.items:
        fixture = item.get("fixture") if isinstance(item, dict) else None
        value = fixture.get("id") if isinstance(fixture, dict) else None
        if type(value) is int:
            found.add(value)
    return found & set(batch.ids)


def mentions(lines: list[str], fixture_id: int) -> list[str]:
    return [line for line in lines if str(fixture_id) in line]


@settings(max_examples=BATCH_EXAMPLES, **EXAMPLE_SETTINGS)
@given(batch=batches())
def test_bad_fixtures_skipped_good_stored(rig: BadInputRig, batch: Batch) -> None:
    rig.reset(batch.ids, batch.body())
    state = PollerState()
    unreadable = set(batch.ids) - readable_ids(batch)

    with client_for(rig) as client:
        first = rig.tick(client, state)
        applied = {update.fixture.id for update in first.updates}
        if unreadable:
            # The missing ids are fetched alone, so the others are polled without them.
            second = rig.tick(client, state, minute=1)
            applied |= {update.fixture.id for update in second.updates}
    stored = rig.stored()
    lines = rig.log.lines

    for fixture_id in batch.good_ids:
        assert stored[fixture_id]["status"]["short"] == "2H", (fixture_id, lines)
        assert stored[fixture_id]["goals"] == {"home": 1, "away": 0}
        assert fixture_id in rig.notified()
    for fixture_id, mutation in batch.changed.items():
        if fixture_id in applied:
            assert not [line for line in mentions(lines, fixture_id) if line.startswith(f"skipped fixture {fixture_id} ")]
            continue
        # Not applied: logged with its id, and left as stored.
        assert mentions(lines, fixture_id), f"{mutation!r}: fixture {fixture_id} was dropped without a log line"
        assert stored[fixture_id]["status"]["short"] == "1H", mutation
        assert stored[fixture_id]["goals"] == {"home": 0, "away": 0}, mutation
        if fixture_id in unreadable:
            assert any("lacks 1 requested fixture(s)" in line for line in mentions(lines, fixture_id)), mutation


@settings(max_examples=GARBAGE_EXAMPLES, **EXAMPLE_SETTINGS)
@given(data=st.data())
def test_garbage_body_keeps_stored_state(rig: BadInputRig, data: st.DataObject) -> None:
    fixture_ids = [1_000, 1_001]
    body = data.draw(garbage_bodies(fixture_ids), label="body")
    rig.reset(fixture_ids, body)

    with client_for(rig) as client:
        try:
            applied = {update.fixture.id for update in rig.tick(client, PollerState()).updates}
        except PollFailedError as error:
            # A non-empty errors list, or an errors key the client does not
            # know, is a request error that no retry fixes: the tick raises
            # after storing what arrived.
            assert str(error).startswith("GET /fixtures?ids=1000-1001 failed: the API returned errors: ")
            applied = set()
    stored = rig.stored()

    for fixture_id in fixture_ids:
        if fixture_id in applied:
            continue
        assert stored[fixture_id]["status"]["short"] == "1H"
        assert [line for line in rig.log.lines if line.startswith("poll of fixtures 1000, 1001 failed")], rig.log.lines


def _tick_once(rig: BadInputRig, fixture_ids: list[int], body: bytes, ticks: int = 1) -> list[TickResult]:
    rig.reset(fixture_ids, body)
    state = PollerState()
    with client_for(rig) as client:
        return [rig.tick(client, state, minute=minute) for minute in range(ticks)]


def test_deeply_nested_body_fails_the_poll(rig: BadInputRig) -> None:
    depth = 100_000
    body = b'{"get":"fixtures","errors":[],"response":' + b"[" * depth + b"]" * depth + b"}"

    [result] = _tick_once(rig, [1_000], body)

    assert [failure.ids for failure in result.failures] == [(1_000,)]
    assert rig.stored()[1_000]["status"]["short"] == "1H"
    [line] = [line for line in rig.log.lines if line.startswith("poll of fixtures 1000 failed")]
    assert "nested too deeply" in line


def test_invalid_utf8_costs_one_name(rig: BadInputRig) -> None:
    # Ids no generated batch uses: a fixture's invalid UTF-8 is reported once per process.
    items = [served_item(5_000), served_item(5_001)]
    items[1]["teams"]["home"]["name"] = INVALID_UTF8_MARK
    batch = Batch([5_000, 5_001], {}, items, invalid_utf8=b"M\xfcller")

    results = _tick_once(rig, batch.ids, batch.body(), ticks=2)
    stored = rig.stored()

    assert all(result.failures == [] for result in results)
    assert stored[5_000]["status"]["short"] == "2H"
    assert stored[5_001]["status"]["short"] == "2H"
    assert stored[5_001]["teams"]["home"]["name"] == "M\ufffdller"
    warnings = [line for line in rig.log.lines if "invalid UTF-8" in line]
    # Logged once, with the fixture, although the second poll got the same bytes.
    assert len(warnings) == 1
    assert "in fixtures 5001," in warnings[0]


@pytest.mark.parametrize(
    "change",
    ["100,000 events", "one event with a 2 MB unknown field", "a team name of 20,000 characters"],
)
def test_oversized_fixture_skipped(rig: BadInputRig, change: str) -> None:
    big = served_item(1_001)
    if change == "100,000 events":
        big["events"] = big["events"] * 100_000
    elif change == "one event with a 2 MB unknown field":
        big["events"][0]["media"] = ["x" * 1_000] * 2_000
    else:
        big["teams"]["away"]["name"] = "x" * 20_000
    batch = Batch([1_000], {}, [served_item(1_000), big])

    [result] = _tick_once(rig, [1_000, 1_001], batch.body())
    stored = rig.stored()

    assert result.failures == []
    assert stored[1_000]["status"]["short"] == "2H"
    assert stored[1_001]["status"]["short"] == "1H"
    assert [line for line in rig.log.lines if line.startswith("skipped fixture 1001 in the response")]


def test_junk_items_logged_in_bounds(rig: BadInputRig) -> None:
    batch = Batch([1_000], {}, [served_item(1_000), *range(100_000)])

    [result] = _tick_once(rig, [1_000], batch.body())

    assert rig.stored()[1_000]["status"]["short"] == "2H"
    assert result.rejected == 100_000
    assert len(rig.log.lines) < 20, rig.log.lines[:5]


def test_repeated_bad_fixture_counted(rig: BadInputRig) -> None:
    broken = served_item(1_001)
    broken["teams"]["home"] = None
    batch = Batch([1_000], {}, [served_item(1_000), broken])

    results = _tick_once(rig, [1_000, 1_001], batch.body(), ticks=12)
    skipped = [line for line in rig.log.lines if line.startswith("skipped fixture 1001 ")]

    assert all(result.rejected == 1 for result in results)
    assert len(skipped) == 2
    assert skipped[0].endswith("teams.home is null, expected an object")
    assert skipped[1].endswith("teams.home is null, expected an object (rejected for this reason 10 times)")
