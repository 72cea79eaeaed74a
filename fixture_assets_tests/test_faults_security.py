"""Secrets never leak, every server binds to 127.0.0.1, and ``--archive`` reads only inside its folder.

The secret test sets recognisable values for the API key, the X credentials
and a MongoDB password, which belongs to a real SCRAM user on a SecantusDB
started with ``--auth``. It replays a match with alerts through the minute
sensor and the daemon's twitter runs, and provokes an API key error, a MongoDB
login failure and an X 401. Then it searches everything an operator can see
for the values.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pymongo
import pytest
from dagster import DagsterInstance, EnvVar, instance_for_test, materialize, serialize_value

from fixture_assets.defs.fixtures.assets import staged_fixtures
from fixture_assets.defs.fixtures.resources import FootballApiResource, PollingResource
from fixture_assets.defs.resources import MongoResource
from fixture_assets.football_api.archive import RawArchive, archive_line
from fixture_assets.replay import ErrorsFault, ReplayServer, ScenarioSource
from fixture_assets.replay.archive_source import ArchiveSource
from fixture_assets.replay.protocol import ReplayInputError
from fixture_assets.replay.runner import _discovery_dates
from fixture_assets.store.database import NOTIFICATIONS
from fixture_assets.store.embedded_server import EmbeddedMongo
from fixture_assets.tick import PollFailedError

from .conftest import REPO_ROOT, SCENARIOS_DIR
from .fault_daemon import INSTANCE_OVERRIDES, daemon_sensors
from .fault_replay import MinuteSensorReplay, skip_message
from .twitter_fixtures import CREDENTIALS
from .x_api_stub import CREATE, StubResponse, XApiStub

pytestmark = pytest.mark.faults

API_KEY = "api-football-key-SECRET-5e1f0a77"
MONGO_USER = "fixture_user"
MONGO_PASSWORD = "mongo-password-SECRET-8c2d4b19"
WRONG_MONGO_PASSWORD = "mongo-wrong-password-SECRET-1a6f"
SECRETS = {"API_FOOTBALL_KEY": API_KEY, "MongoDB password": MONGO_PASSWORD, "wrong MongoDB password": WRONG_MONGO_PASSWORD, **CREDENTIALS}
SCENARIO = SCENARIOS_DIR / "tc02-var-cancel-without-var-event.json"


class AuthMongo(EmbeddedMongo):
    """SecantusDB that requires SCRAM authentication for every command but the handshake."""

    def _command(self) -> list[str]:
        return [*super()._command(), "--auth"]


@pytest.fixture
def auth_mongo(tmp_path: Path) -> Iterator[AuthMongo]:
    """A SecantusDB with one root user, restarted with --auth on the same data."""
    storage = tmp_path / "auth-mongo"
    with EmbeddedMongo(storage) as setup:
        client = pymongo.MongoClient(setup.uri)
        client.admin.command("createUser", MONGO_USER, pwd=MONGO_PASSWORD, roles=[{"role": "root", "db": "admin"}])
        client.close()
        port = setup.port
    server = AuthMongo(storage, port=port, log_path=tmp_path / "auth-mongo.log").start()
    try:
        yield server
    finally:
        server.stop()


def mongo_uri(server: EmbeddedMongo, password: str = MONGO_PASSWORD) -> str:
    return f"mongodb://{MONGO_USER}:{password}@127.0.0.1:{server.port}/?authSource=admin"


def tick_texts(instance: DagsterInstance) -> list[str]:
    """The sensor ticks the daemon recorded, with their skip reasons and errors."""
    texts = []
    for state in instance.all_instigator_state():
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id):
            texts.append(serialize_value(tick.tick_data))
    return texts


def run_texts(instance: DagsterInstance) -> list[str]:
    """Every run's config, tags and event log, including step failures and materialization metadata."""
    texts = []
    for run in instance.get_runs():
        texts.append(json.dumps(run.run_config, default=str))
        texts.append(json.dumps(run.tags))
        texts.extend(serialize_value(record) for record in instance.all_logs(run.run_id))
    return texts


def test_no_secret_in_any_output(
    shared_dir, auth_mongo: AuthMongo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd, caplog
) -> None:
    caplog.set_level("DEBUG")
    source = ScenarioSource.from_file(SCENARIO)
    database = f"secrets_{uuid.uuid4().hex[:8]}"
    uri = mongo_uri(auth_mongo)
    texts: list[str] = []
    x_stub = XApiStub(
        api_key=CREDENTIALS["X_API_KEY"],
        api_secret=CREDENTIALS["X_API_SECRET"],
        access_token=CREDENTIALS["X_ACCESS_TOKEN"],
        access_token_secret=CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
        bearer_token=CREDENTIALS["X_BEARER_TOKEN"],
    )
    for name, value in {**CREDENTIALS, "MONGO_URI": uri, "MONGO_DATABASE": database, "API_FOOTBALL_KEY": API_KEY}.items():
        monkeypatch.setenv(name, value)

    with x_stub, instance_for_test(overrides=INSTANCE_OVERRIDES) as instance:
        monkeypatch.setenv("X_API_BASE_URL", x_stub.base_url)
        mongo = MongoResource(uri=uri, database=database)
        replay = MinuteSensorReplay(source, mongo, api_key=API_KEY, expected_api_key=API_KEY)
        with replay:
            monkeypatch.setenv("API_FOOTBALL_BASE_URL", replay.server.url)
            replay.discover()
            for index, at in replay.polls():
                result = replay.evaluate(at)
                texts += [skip_message(result), serialize_value(list(result.asset_events)), str(result.run_requests)]

            # The API rejects the key and quotes it back; the sensor fails the tick.
            replay.server.inject_fault(ErrorsFault(errors={"token": f"Error/The key {API_KEY} is not valid."}))
            with pytest.raises(PollFailedError) as rejected:
                replay.evaluate(source.polls[-1].at)
            texts += traceback.format_exception(rejected.value)

            # A wrong MongoDB password fails the login; the tick skips.
            wrong = MongoResource(uri=mongo_uri(auth_mongo, WRONG_MONGO_PASSWORD), database=database)
            with MinuteSensorReplay(source, wrong, api_key=API_KEY) as failing:
                login_failed = skip_message(failing.evaluate(source.polls[-1].at))
            texts.append(login_failed)

            # Discovery as a Dagster run, with the secrets in EnvVars as the definitions set them.
            discovery = materialize(
                [staged_fixtures],
                partition_key=_discovery_dates(source)[0],
                resources={
                    "mongo": MongoResource(uri=EnvVar("MONGO_URI"), database=database),
                    "football_api": FootballApiResource(api_key=EnvVar("API_FOOTBALL_KEY"), base_url=replay.server.url),
                    "polling": PollingResource(),
                },
                instance=instance,
            )

            # The goal sensor requests one run per alert; X rejects the credentials once.
            x_stub.enqueue(CREATE, StubResponse.unauthorized())
            with daemon_sensors(instance, "fixture_assets_tests.fault_definitions") as iterate:
                iterate(datetime.now(UTC))
        texts += run_texts(instance) + tick_texts(instance)
        runs = instance.get_runs()

    admin = pymongo.MongoClient(uri)
    texts += [json.dumps(document, default=str) for document in admin[database][NOTIFICATIONS].find({}, {"_id": 0})]
    admin.drop_database(database)
    admin.close()
    captured = capfd.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    everything = "\n".join(texts)

    # The checks below must have seen real material.
    assert discovery.success
    # Four alerts and one correction, of which X rejected the first with 401.
    assert sum(run.job_name == "twitter_job" for run in runs) == 5
    assert x_stub.posts
    assert "401 Unauthorized" in everything
    assert "Error/The key *** is not valid" in everything
    assert login_failed.startswith(f"MongoDB at mongodb://{MONGO_USER}:***@127.0.0.1:{auth_mongo.port}/")
    assert f"MongoDB mongodb://{MONGO_USER}:***@127.0.0.1:{auth_mongo.port}/" in everything
    for name, secret in SECRETS.items():
        assert secret not in everything, f"{name} leaked"


# Every server the product starts listens on 127.0.0.1 by default.


def listening_addresses(process: psutil.Process) -> set[str]:
    return {
        connection.laddr.ip
        for connection in process.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    }


def test_embedded_mongo_listens_on_loopback() -> None:
    with EmbeddedMongo(":memory:") as server:
        addresses = listening_addresses(psutil.Process(server.pid))

    assert addresses == {"127.0.0.1"}


def test_replay_server_listens_on_loopback(shared_dir) -> None:
    with ReplayServer(ScenarioSource.from_file(SCENARIO)) as server:
        own = psutil.Process().net_connections(kind="inet")
        addresses = {c.laddr.ip for c in own if c.status == psutil.CONN_LISTEN and c.laddr.port == server.port}

    assert addresses == {"127.0.0.1"}


def test_replay_server_command_listens_on_loopback(shared_dir) -> None:
    command = [sys.executable, "-m", "fixture_assets.cli", "replay-server", "--scenario", str(SCENARIO)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        addresses = listening_addresses(psutil.Process(process.pid))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)

    assert url.startswith("http://127.0.0.1:")
    assert addresses == {"127.0.0.1"}
    assert process.returncode == 0


# --archive reads only the files inside the folder it is given.


@pytest.fixture
def archive_tree(tmp_path: Path) -> Path:
    """An archive folder with one real day, beside a sibling folder whose name starts the same."""
    folder = tmp_path / "archive"
    RawArchive(folder).append(
        archive_line(
            at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            path="/status",
            params={},
            status=200,
            headers={},
            content=b'{"get":"status","parameters":[],"errors":[],"results":1,"paging":{},"response":{}}',
        )
    )
    sibling = tmp_path / "archive-other"
    RawArchive(sibling).append(
        archive_line(at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC), path="/status", params={}, status=200, headers={}, content=b"{}")
    )
    return folder


def _escape(folder: Path, kind: str) -> str:
    """Plant one way out of ``folder`` and return the archive day that takes it."""
    outside = folder.parent / "archive-other" / "2026-03-02.jsonl.gz"
    if kind == "link to a file outside":
        os.symlink(outside, folder / "2026-03-05.jsonl.gz")
        return "2026-03-05"
    if kind == "relative link with ..":
        os.symlink(Path("..") / "archive-other" / "2026-03-02.jsonl.gz", folder / "2026-03-06.jsonl.gz")
        return "2026-03-06"
    if kind == "chain of links":
        os.symlink(outside, folder / "hop.jsonl.gz.tmp")
        os.symlink(folder / "hop.jsonl.gz.tmp", folder / "2026-03-07.jsonl.gz")
        return "2026-03-07"
    if kind == "link to a folder outside":
        os.symlink(folder.parent, folder / "2026-03-08.jsonl.gz")
        return "2026-03-08"
    raise ValueError(kind)


ESCAPES = ["link to a file outside", "relative link with ..", "chain of links", "link to a folder outside"]


@pytest.mark.parametrize("kind", ESCAPES)
def test_archive_day_leading_outside_rejected(archive_tree: Path, kind: str) -> None:
    day = _escape(archive_tree, kind)

    with pytest.raises(ReplayInputError) as rejected:
        ArchiveSource(archive_tree, days=[day])

    message = str(rejected.value)
    assert "outside the archive folder" in message or "not a regular file" in message
    assert str(archive_tree.resolve()) in message


@pytest.mark.parametrize("kind", ESCAPES)
def test_archive_folder_with_way_out_rejected(archive_tree: Path, kind: str) -> None:
    _escape(archive_tree, kind)

    with pytest.raises(ReplayInputError, match="outside the archive folder|not a regular file"):
        ArchiveSource(archive_tree)


def test_archive_fifo_rejected_without_blocking(archive_tree: Path) -> None:
    os.mkfifo(archive_tree / "2026-03-09.jsonl.gz")

    with pytest.raises(ReplayInputError, match="not a regular file"):
        ArchiveSource(archive_tree, days=["2026-03-09"])

    assert stat.S_ISFIFO(os.stat(archive_tree / "2026-03-09.jsonl.gz").st_mode)


def test_archive_link_inside_accepted(archive_tree: Path) -> None:
    os.symlink(archive_tree / "2026-03-01.jsonl.gz", archive_tree / "2026-03-10.jsonl.gz")

    source = ArchiveSource(archive_tree, days=["2026-03-10"])

    assert source.initial_time() == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "day, message",
    [
        ("../archive-other/2026-03-02", "archive day '../archive-other/2026-03-02' is invalid: use YYYY-MM-DD"),
        ("2026-03-05", "outside the archive folder"),
    ],
)
def test_archive_command_rejects_way_out(archive_tree: Path, day: str, message: str) -> None:
    _escape(archive_tree, "link to a file outside")
    command = [
        sys.executable, "-m", "fixture_assets.cli", "replay-server", "--archive", str(archive_tree), "--archive-day", day,
    ]

    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.startswith("fixture-assets replay-server: ")
    assert message in completed.stderr
