"""Split poll ticks into their phases, to find where a tick's time goes.

    python -m benchmarks.tick_phases --n 1000
    python -m benchmarks.tick_phases --n 1000 --pyinstrument
    python -m benchmarks.tick_phases --n 1000 --skip-clock-only-writes

This is a profiling aid, not the benchmark: the replay server runs in this
process, beside the tick, and the phases are timed by wrapping the store,
fetch and observe functions that ``run_tick`` calls. ``--pyinstrument``
needs ``pip install pyinstrument``. ``--skip-clock-only-writes`` is an
experiment that changes behaviour: fixtures whose poll moved only the
match clock are not written, which the store's contract does not allow.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import fixture_assets.store.fixtures as fixtures_module
import fixture_assets.tick as tick_module
from benchmarks.poll_tick import STARTED_AT
from benchmarks.synthetic_source import SyntheticLiveSource
from benchmarks.workers import BENCHMARK_API_KEY
from fixture_assets.discovery import DiscoveryFilter, discover_match_date
from fixture_assets.football_api import ApiClientSettings, FootballApiClient
from fixture_assets.observe import PollSettings
from fixture_assets.poller_state import PollerState
from fixture_assets.replay import ReplayServer, VirtualClock
from fixture_assets.store.database import connect, ensure_indexes
from fixture_assets.store.embedded_server import EmbeddedMongo
from fixture_assets.store.fixtures import FixtureStore

# Seconds spent in each phase of the current tick, by phase name.
_phase_seconds: dict[str, float] = defaultdict(float)


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _phase_seconds[name] += time.perf_counter() - started

    return wrapper


def install_phase_timers(skip_clock_only_writes: bool) -> None:
    """Wrap the functions ``run_tick`` calls, so that each call adds to its phase's time."""
    FixtureStore.load_tracked = _timed("load_tracked", FixtureStore.load_tracked)  # type: ignore[method-assign]
    FixtureStore.write = _timed("write", FixtureStore.write)  # type: ignore[method-assign]
    FixtureStore._run_transaction = _timed("write: transaction", FixtureStore._run_transaction)  # type: ignore[method-assign]
    tick_module.fetch_while_loading = _timed("fetch and load", tick_module.fetch_while_loading)
    tick_module.observe_fixtures = _timed("observe", tick_module.observe_fixtures)

    plan = fixtures_module._plan
    if skip_clock_only_writes:
        original_plan = plan

        def plan(updates, notifications, stale_copies, now):  # type: ignore[no-untyped-def]
            written = [update for update in updates if update.changed or update.previous is None or update.moved]
            return original_plan(written, notifications, stale_copies, now)

    fixtures_module._plan = _timed("write: plan", plan)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tick_phases", description="Time the phases of poll ticks.")
    parser.add_argument("--n", type=int, default=1000, help="fixtures in play (default: %(default)s)")
    parser.add_argument("--ticks", type=int, default=4, help="ticks to time after seeding (default: %(default)s)")
    parser.add_argument("--pyinstrument", action="store_true", help="print a pyinstrument profile of the last tick")
    parser.add_argument(
        "--skip-clock-only-writes", action="store_true", help="experiment: do not write updates that only move the clock"
    )
    args = parser.parse_args(argv)
    install_phase_timers(args.skip_clock_only_writes)

    with tempfile.TemporaryDirectory(prefix="bench-tick-phases-") as folder, EmbeddedMongo(Path(folder) / "db") as server:
        mongo = connect(server.uri)
        database = mongo["bench_tick_phases"]
        ensure_indexes(database)
        store = FixtureStore(database)
        clock = VirtualClock(STARTED_AT, speed=0)
        with ReplayServer(SyntheticLiveSource(args.n, started_at=STARTED_AT), clock=clock) as replay:
            settings = ApiClientSettings(base_url=replay.url, api_key=BENCHMARK_API_KEY)
            with FootballApiClient(settings) as client:
                discover_match_date(store, client, STARTED_AT.date().isoformat(), DiscoveryFilter(), PollSettings(), STARTED_AT)

            state = PollerState()
            for minute in range(1, args.ticks + 1):
                at = STARTED_AT + timedelta(minutes=minute, seconds=30)
                clock.set(at)
                _phase_seconds.clear()
                profiler = _start_profiler() if args.pyinstrument and minute == args.ticks else None
                started = time.perf_counter()
                with FootballApiClient(settings) as client:
                    tick_module.run_tick(store, client, state, PollSettings(), at)
                total = time.perf_counter() - started
                if profiler is not None:
                    profiler.stop()
                    print(profiler.output_text(unicode=False, color=False))
                phases = ", ".join(f"{name} {seconds:.3f}" for name, seconds in _phase_seconds.items())
                print(f"tick {minute}: {total:.3f} s ({phases})")
        mongo.close()


def _start_profiler() -> Any:
    from pyinstrument import Profiler  # an optional profiling tool, not a dependency of the project

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


if __name__ == "__main__":
    main()
