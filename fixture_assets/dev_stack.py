"""The local stack behind ``make dev``: embedded defaults around ``dagster dev``.

Each real service replaces its embedded default on its own: ``MONGO_URI``
skips SecantusDB, ``API_FOOTBALL_KEY`` (or ``API_FOOTBALL_BASE_URL``) skips
the demo replay server, and the X credentials turn off the dry run. Every
process started here binds to 127.0.0.1 unless ``--host`` sets another address, and
is stopped again on Ctrl-C.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from pymongo.errors import PyMongoError

from fixture_assets.football_api import API_KEY_ENV, BASE_URL_ENV
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.demo_starts import DEMO_STARTS_FILE, DemoPlan, plan_demo
from fixture_assets.replay.server import ReplayServer
from fixture_assets.store.database import DEFAULT_DATABASE, connect, mask_uri, validate_mongo_uri
from fixture_assets.store.discoveries import forget_discoveries
from fixture_assets.store.embedded_server import EmbeddedMongo

logger = logging.getLogger(__name__)

# dagster dev stops its webserver, daemon and code server within about a
# second of SIGINT; this bounds the wait before the group is killed.
_DAGSTER_STOP_TIMEOUT_S = 30.0


class DevStackError(RuntimeError):
    """The stack cannot start; the message says why and what to change."""


@dataclass(frozen=True, slots=True)
class DevOptions:
    project_dir: Path
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 3000
    minute_seconds: float = 5.0
    kickoff_delay_minutes: float = 2.0


def run_dev_stack(options: DevOptions) -> int:
    """Start the stack, run ``dagster dev`` until it exits or Ctrl-C, stop everything. Returns an exit code."""
    environment = dict(os.environ)

    with ExitStack() as services:
        services.enter_context(_data_dir_lock(options.data_dir))
        stop = _stop_requested()
        embedded: EmbeddedMongo | None = None
        if environment.get("MONGO_URI"):
            _check_mongo(environment["MONGO_URI"])
        else:
            mongo = EmbeddedMongo(
                options.data_dir / "mongo", host="127.0.0.1", log_path=options.data_dir / "mongo.log"
            ).start()
            services.callback(mongo.stop)
            environment["MONGO_URI"] = mongo.uri
            embedded = mongo
        logger.info("MongoDB: %s", mask_uri(environment["MONGO_URI"]))

        if not environment.get(API_KEY_ENV) and not environment.get(BASE_URL_ENV):
            plan = _plan_demo(options, environment)
            # The demo's kick-offs are real times, so the server's clock is real time.
            replay = ReplayServer(plan.source, host="127.0.0.1", clock=VirtualClock()).start()
            services.callback(replay.stop)
            environment[BASE_URL_ENV] = replay.url
            logger.info("football API: demo replay server at %s (%s)", replay.url, plan.source.description)
        else:
            logger.info("football API: %s", environment.get(BASE_URL_ENV) or "the real API-Football")

        environment["DAGSTER_HOME"] = str(_prepare_dagster_home(options))
        environment["DAGSTER_DISABLE_TELEMETRY"] = "1"
        return _run_dagster_dev(options, environment, stop, watched=embedded)


@contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the data folder while the stack runs, so that a second stack is stopped early."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / "dev.lock"
    with open(lock_path, "a+", encoding="utf-8") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "unknown"
            raise DevStackError(
                f"another fixture-assets dev (process {holder}) uses the data folder {data_dir}; "
                "stop it, or pass another --data-dir"
            ) from None
        lock_file.truncate(0)
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        yield


def _plan_demo(options: DevOptions, environment: dict[str, str]) -> DemoPlan:
    """Resume the demo day that still plays, or start a new one whose dates are discovered again."""
    plan = plan_demo(
        options.data_dir / DEMO_STARTS_FILE,
        datetime.now(UTC),
        options.minute_seconds,
        options.kickoff_delay_minutes,
        _demo_id_offset(),
    )
    first_kickoff = plan.current_source.first_kickoff
    if plan.resumed:
        logger.info(
            "demo day: resuming the day started at %s UTC (first kick-off %s UTC)",
            f"{plan.current.started_at:%H:%M:%S}",
            f"{first_kickoff:%H:%M}",
        )
        return plan

    logger.info("demo day: a new day under new fixture ids, first kick-off at %s UTC", f"{first_kickoff:%H:%M}")
    # An earlier demo day recorded these dates as discovered. Forgetting that
    # makes the minute sensor request their discovery, which finds the new ids.
    client = connect(environment["MONGO_URI"], timeout_ms=5_000)
    try:
        database = client[environment.get("MONGO_DATABASE") or DEFAULT_DATABASE]
        forget_discoveries(database, plan.match_dates)
    except PyMongoError as error:
        logger.warning(
            "could not reset the discovery record of %s (%s: %s); the new demo fixtures are found by the next "
            "scheduled discovery, or materialize staged_fixtures for the date in the UI",
            ", ".join(plan.match_dates),
            type(error).__name__,
            error,
        )
    finally:
        client.close()
    return plan


def _demo_id_offset() -> int:
    """Return a fixture id offset that differs for each start minute of the demo day.

    The offset repeats after about 69 days (100,000 minutes).
    """
    return int(time.time() // 60) % 100_000 * 100


def _check_mongo(uri: str) -> None:
    try:
        validate_mongo_uri(uri)
    except ValueError as error:
        raise DevStackError(f"{error}, or unset MONGO_URI to use the embedded SecantusDB") from None
    client = connect(uri, timeout_ms=5_000)
    try:
        client.admin.command("ping")
    except PyMongoError as error:
        raise DevStackError(
            f"cannot reach MongoDB at {mask_uri(uri)} ({type(error).__name__}). "
            "Start it, fix MONGO_URI, or unset MONGO_URI to use the embedded SecantusDB."
        ) from None
    finally:
        client.close()


def _prepare_dagster_home(options: DevOptions) -> Path:
    """Create a DAGSTER_HOME that survives restarts, so sensor cursors and run keys persist."""
    home = options.data_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(options.project_dir / "dagster.yaml", home / "dagster.yaml")
    return home


def _run_dagster_dev(
    options: DevOptions, environment: dict[str, str], stop: threading.Event, watched: EmbeddedMongo | None = None
) -> int:
    """Run dagster dev until it exits, Ctrl-C, or the embedded MongoDB ``watched`` exits; return an exit code."""
    command = [
        _dagster_executable(),
        "dev",
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--workspace",
        str(options.project_dir / "workspace.yaml"),
    ]
    logger.info("starting dagster dev on http://%s:%d", options.host, options.port)
    # Its own process group: dagster dev ignores SIGINT when started without
    # job control, and SIGINT to the whole group stops its children too.
    # Started in DAGSTER_HOME: from the project folder, dagster dev would warn
    # that the project's dagster.yaml is not the instance's.
    process = subprocess.Popen(command, cwd=environment["DAGSTER_HOME"], env=environment, start_new_session=True)
    mongo_exit: int | None = None
    try:
        while process.poll() is None and not stop.wait(0.5):
            mongo_exit = watched.exit_code() if watched is not None else None
            if mongo_exit is not None:
                # Every sensor tick would fail from here on, so the stack stops instead.
                logger.error(
                    "SecantusDB exited with code %d; see %s. Stopping the dev stack; its data is kept, so start it again",
                    mongo_exit,
                    options.data_dir / "mongo.log",
                )
                break
    finally:
        _stop_process_group(process)
    logger.info("dagster dev stopped with exit code %s", process.returncode)
    if mongo_exit is not None:
        return 1
    return 0 if stop.is_set() else int(process.returncode or 0)


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop dagster dev and every process in its group: webserver, daemon, code servers and runs."""
    group = process.pid
    if process.poll() is None:
        logger.info("stopping dagster dev (process group %d)", group)
        _signal_group(group, signal.SIGINT)
        try:
            process.wait(timeout=_DAGSTER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            logger.warning("dagster dev did not stop within %.0f s; killing its process group", _DAGSTER_STOP_TIMEOUT_S)

    # Run workers and helper processes can outlive dagster dev by a moment.
    deadline = time.monotonic() + _DAGSTER_STOP_TIMEOUT_S
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(group):
        logger.warning("processes of group %d still run after %.0f s; killing them", group, _DAGSTER_STOP_TIMEOUT_S)
        _signal_group(group, signal.SIGKILL)
    if process.poll() is None:
        process.wait()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(group: int, signum: signal.Signals) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def _dagster_executable() -> str:
    beside = Path(sys.executable).parent / "dagster"
    return str(beside) if beside.exists() else (shutil.which("dagster") or "dagster")


def _stop_requested() -> threading.Event:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, stopping the dev stack", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop
