"""Replay a scenario tick by tick in a process that kills itself with SIGKILL at a chosen step.

Crash tests run this module with ``python -m fixture_assets_tests.fault_crash_tick``.
The process serves the scenario from its own replay server on 127.0.0.1 and
runs one ``run_tick`` per poll, at the poll's time, against the given MongoDB
database. The poller state is saved in ``--state-file`` after every tick, as
the minute sensor saves it in its cursor, so a restarted process continues
with the state of the last finished tick.

With ``--crash-poll`` and ``--crash-step``, the process prints a ``crash``
line and sends itself SIGKILL when that poll's tick reaches that step. The
steps are ``after fetch`` (the tick's first ``ids=`` response is parsed) and
the store's steps (``after goal_notifications``, ..., ``after commit``).

Every line on stdout is one JSON object: ``tick`` (a finished tick and the
steps it reached), ``retry`` (a MongoDB error, retried at the same time) or
``crash``. A SIGKILLed process leaves its transaction open, and SecantusDB
aborts it only after 60 s, so the next process hits write conflicts until
then. Each tick is therefore retried at the same virtual time until
``--retry-deadline-s`` has passed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pymongo.errors import PyMongoError

from fixture_assets.discovery import DiscoveryFilter, discover_match_date
from fixture_assets.football_api import ApiClientSettings, FootballApiClient, IdsBatch
from fixture_assets.observe import PollSettings
from fixture_assets.poller_state import PollerState
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.runner import _discovery_dates
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.replay.server import ReplayServer
from fixture_assets.store.database import connect
from fixture_assets.store.fixtures import ConcurrentUpdateError, FixtureStore, StoreBusyError
from fixture_assets.tick import PollFailedError, run_tick

FETCH_STEP = "after fetch"
STORE_STEPS = (
    "after goal_notifications",
    "after completed_fixtures",
    "after live_fixtures",
    "after staged_fixtures",
    "before commit",
    "after commit",
)
STEPS = (FETCH_STEP, *STORE_STEPS)
# The step after which a tick's writes are durable: a process killed there
# restarts with the next poll, as the minute sensor polls again a minute later.
DURABLE_STEP = "after commit"
# The errors the minute sensor turns into a skipped tick that the next tick repeats.
RETRIED_ERRORS = (PyMongoError, StoreBusyError, ConcurrentUpdateError)


class _HookedClient(FootballApiClient):
    """A client that reports each finished ``ids=`` fetch to ``step_hook``."""

    def __init__(self, settings: ApiClientSettings, step_hook: Callable[[str], None]) -> None:
        super().__init__(settings)
        self._step_hook = step_hook

    def fixtures_by_ids(self, ids: Sequence[int]) -> IdsBatch:
        batch = super().fixtures_by_ids(ids)
        self._step_hook(FETCH_STEP)
        return batch


def play(
    scenario: Path,
    mongo_uri: str,
    database_name: str,
    state_file: Path,
    *,
    discover: bool,
    from_poll: int,
    crash_poll: int | None,
    crash_step: str | None,
    retry_deadline_s: float,
    emit: Callable[[dict[str, Any]], None],
) -> None:
    """Play the polls from ``from_poll`` on, and kill this process at the crash point if one is given."""
    source = ScenarioSource.from_file(scenario)
    clock = VirtualClock(source.initial_time(), speed=0)
    mongo = connect(mongo_uri, app_name="fault-crash-tick")
    database = mongo[database_name]
    store = FixtureStore(database)
    settings = PollSettings()
    current: dict[str, Any] = {"poll": None, "steps": []}

    def step_hook(step: str) -> None:
        if current["poll"] is None:
            return
        current["steps"].append(step)
        if current["poll"] == crash_poll and step == crash_step:
            emit({"event": "crash", "poll": crash_poll, "step": step})
            os.kill(os.getpid(), signal.SIGKILL)

    with ReplayServer(source, clock=clock) as server:
        client_settings = ApiClientSettings(base_url=server.url, api_key="fault-crash-key", retry_delay_s=0.01)
        with _HookedClient(client_settings, step_hook) as client:
            if discover:
                for match_date in _discovery_dates(source):
                    discover_match_date(store, client, match_date, DiscoveryFilter(), settings, source.polls[0].at)

            for index in range(from_poll, len(source.polls)):
                poll = source.polls[index]
                clock.set(poll.at)
                deadline = time.monotonic() + retry_deadline_s
                while True:
                    state = _load_state(state_file)
                    current.update(poll=index, steps=[])
                    try:
                        run_tick(store, client, state, settings, poll.at, step_hook=step_hook)
                    except PollFailedError as error:
                        emit({"event": "failed", "poll": index, "error": str(error)})
                    except RETRIED_ERRORS as error:
                        _save_state(state_file, state)
                        if time.monotonic() > deadline:
                            raise
                        emit({"event": "retry", "poll": index, "error": f"{type(error).__name__}: {error}"})
                        time.sleep(1.0)
                        continue
                    _save_state(state_file, state)
                    emit({"event": "tick", "poll": index, "steps": current["steps"]})
                    break
    mongo.close()


def _load_state(path: Path) -> PollerState:
    return PollerState.from_json(path.read_text(encoding="utf-8") if path.exists() else None)


def _save_state(path: Path, state: PollerState) -> None:
    # Written to a temporary file and renamed, so a kill never leaves half a state.
    partial = path.with_suffix(".partial")
    partial.write_text(state.to_json(), encoding="utf-8")
    partial.replace(path)


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fixture_assets_tests.fault_crash_tick", description=__doc__)
    parser.add_argument("--scenario", type=Path, required=True, help="Scenario JSON file.")
    parser.add_argument("--mongo-uri", required=True, help="MongoDB connection string.")
    parser.add_argument("--database", required=True, help="Database to write to.")
    parser.add_argument("--state-file", type=Path, required=True, help="File that keeps the poller state between ticks.")
    parser.add_argument("--discover", action="store_true", help="Discover the scenario's match dates first.")
    parser.add_argument("--from-poll", type=int, default=0, help="Index of the first poll to play (default 0).")
    parser.add_argument("--crash-poll", type=int, help="Index of the poll whose tick is killed.")
    parser.add_argument("--crash-step", choices=STEPS, help="Step at which the tick is killed.")
    parser.add_argument(
        "--retry-deadline-s",
        type=float,
        default=150.0,
        help="Seconds a tick is retried after MongoDB errors before the process fails (default 150).",
    )
    args = parser.parse_args(argv)
    if (args.crash_poll is None) != (args.crash_step is None):
        parser.error("--crash-poll and --crash-step go together")

    play(
        args.scenario,
        args.mongo_uri,
        args.database,
        args.state_file,
        discover=args.discover,
        from_poll=args.from_poll,
        crash_poll=args.crash_poll,
        crash_step=args.crash_step,
        retry_deadline_s=args.retry_deadline_s,
        emit=_emit,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
