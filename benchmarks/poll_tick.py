"""Poll tick benchmark: what one minute of polling costs for N fixtures in play.

For each N, the benchmark seeds an empty database with N live fixtures by
discovery (not timed), then runs one warm-up tick and ``--ticks`` timed
ticks, one virtual minute apart, in a worker process of its own. After each
tick the worker fetches the same N fixtures with a new API client of the same
settings and nothing else: ``fetch_only_s``, the floor that a tick cannot beat.

Processes: this process runs the replay server (in threads) and seeds the
database, SecantusDB runs as a child process, and the ticks run in a worker
child process whose peak RSS is reported. All of them listen on or connect
to 127.0.0.1 only.

    python -m benchmarks.poll_tick --json benchmarks/results/poll_tick.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo

from benchmarks.harness import configure_benchmark_logging, format_table, machine_summary, run_worker, start_secantus
from benchmarks.synthetic_source import SyntheticLiveSource
from benchmarks.workers import BENCHMARK_API_KEY
from fixture_assets.core.status import StatusClass
from fixture_assets.discovery import DiscoveryFilter, discover_match_date
from fixture_assets.football_api import MAX_IDS_PER_REQUEST, ApiClientSettings, FootballApiClient
from fixture_assets.football_api.settings import MAX_IN_FLIGHT_LIMIT
from fixture_assets.observe import PollSettings
from fixture_assets.replay import ReplayServer, VirtualClock
from fixture_assets.store.database import connect, ensure_indexes
from fixture_assets.store.fixtures import FixtureStore

logger = logging.getLogger("benchmarks.poll_tick")

DEFAULT_SIZES = (20, 200, 1000)
MIN_TICKS = 5
# Virtual time of the seeding discovery. Ticks follow at whole minutes plus 30 s.
STARTED_AT = datetime(2025, 5, 17, 18, 0, tzinfo=UTC)

# Targets on a 2-core machine.
TARGET_TICK_S_AT_1000 = 3.0
TARGET_RATIO = 1.5
TARGET_MONGO_COMMANDS = 8
TARGET_PEAK_RSS_MB_AT_1000 = 300.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.poll_tick", description="Measure one poll tick for N fixtures in play."
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as a JSON list to PATH")

    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated fixture counts N (default: %(default)s)"
    )
    parser.add_argument(
        "--ticks", type=int, default=7, help=f"timed ticks per N, at least {MIN_TICKS}; medians are reported (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic fixtures and goals (default: %(default)s)")
    parser.add_argument(
        "--max-in-flight", type=int, default=4, help="concurrent ids= requests, as the API resource's max_in_flight (default: %(default)s)"
    )
    parser.add_argument(
        "--mongo-uri",
        help="MongoDB replica set to use instead of starting SecantusDB; its bench_poll_tick_* databases are dropped",
    )
    parser.add_argument(
        "--match-details",
        action="store_true",
        help="add synthetic lineups, statistics and players to each ids= item (about 35 KB more per item, as in real responses)",
    )
    args = parser.parse_args(argv)

    try:
        args.sizes = [int(part) for part in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes {args.sizes!r} is invalid: use comma-separated integers such as 20,200,1000")
    if any(size < 1 for size in args.sizes):
        parser.error(f"--sizes {args.sizes} is invalid: every N must be 1 or more")
    if args.ticks < MIN_TICKS:
        parser.error(f"--ticks is {args.ticks}, but medians need at least {MIN_TICKS} timed ticks")
    if not 1 <= args.max_in_flight <= MAX_IN_FLIGHT_LIMIT:
        parser.error(f"--max-in-flight is {args.max_in_flight}, but it must be between 1 and {MAX_IN_FLIGHT_LIMIT}")
    return args


def measure_size(size: int, args: argparse.Namespace, mongo: pymongo.MongoClient, mongo_uri: str) -> dict[str, Any]:
    """Seed N live fixtures, run the ticks in a worker, and summarize them."""
    database_name = f"bench_poll_tick_{size}"
    mongo.drop_database(database_name)
    database = mongo[database_name]
    ensure_indexes(database)

    source = SyntheticLiveSource(size, started_at=STARTED_AT, seed=args.seed, match_details=args.match_details)
    clock = VirtualClock(STARTED_AT, speed=0)
    # One warm-up tick, then the timed ones, each a virtual minute later.
    tick_times = [STARTED_AT + timedelta(minutes=minute, seconds=30) for minute in range(1, args.ticks + 2)]

    with ReplayServer(source, clock=clock) as server:
        seed_started = time.perf_counter()
        with FootballApiClient(ApiClientSettings(base_url=server.url, api_key=BENCHMARK_API_KEY)) as client:
            seeded = discover_match_date(
                FixtureStore(database), client, STARTED_AT.date().isoformat(), DiscoveryFilter(), PollSettings(), STARTED_AT
            )
        live = database[StatusClass.LIVE.value].count_documents({})
        if live != size:
            raise RuntimeError(f"seeding stored {live} live fixtures instead of {size}; failures: {seeded.failures}")
        logger.info("N=%d: seeded %d live fixtures in %.1f s", size, live, time.perf_counter() - seed_started)

        config = {
            "mongo_uri": mongo_uri,
            "database": database_name,
            "base_url": server.url,
            "max_in_flight": args.max_in_flight,
            "fixture_ids": source.fixture_ids,
            "tick_times": [moment.isoformat() for moment in tick_times],
        }
        served_before = [0]

        def answer(message: dict[str, Any]) -> dict[str, Any]:
            if message["op"] == "set_clock":
                clock.set(datetime.fromisoformat(message["at"]))
                return {"ok": True}
            if message["op"] == "served":
                served = len(server.requests)
                count, served_before[0] = served - served_before[0], served
                return {"requests": count}
            raise ValueError(f"unknown worker request {message!r}")

        served_before[0] = len(server.requests)
        worker = run_worker("ticks", config, answer)

    mongo.drop_database(database_name)
    return summarize(size, worker, source)


def summarize(size: int, worker: dict[str, Any], source: SyntheticLiveSource) -> dict[str, Any]:
    """Reduce the worker's ticks to the reported row.

    ``details.problems`` lists each tick that did not do the expected work:
    a skip, a failed request, other than N fixtures, or a number of
    notifications other than the new goals of its minute.
    """
    warmup, *timed = worker["ticks"]
    expected_requests = math.ceil(size / MAX_IDS_PER_REQUEST)
    problems = []
    for minute, tick in enumerate(worker["ticks"], start=1):
        expected_goals = len(source.new_goals(minute))
        where = f"N={size}, tick at {tick['at']}"
        if tick["skip_reason"]:
            problems.append(f"{where}: skipped because {tick['skip_reason']}")
        if tick["failures"] or tick["fetch_only_failures"]:
            problems.append(f"{where}: {tick['failures']} tick and {tick['fetch_only_failures']} fetch-only requests failed")
        if tick["tracked"] != size or tick["fetch_only_fixtures"] != size:
            problems.append(f"{where}: tracked {tick['tracked']} and fetched {tick['fetch_only_fixtures']} of {size} fixtures")
        if tick["notifications"] != expected_goals:
            problems.append(f"{where}: {tick['notifications']} notifications for {expected_goals} new goals")
        if tick["api_requests_served"] != tick["api_requests"]:
            problems.append(f"{where}: the tick counted {tick['api_requests']} requests, the server {tick['api_requests_served']}")

    tick_times = [tick["tick_s"] for tick in timed]
    fetch_times = [tick["fetch_only_s"] for tick in timed]
    command_names: Counter[str] = Counter()
    for tick in timed:
        command_names.update(tick["mongo_command_names"])
    return {
        "n": size,
        "tick_s": round(statistics.median(tick_times), 4),
        "fetch_only_s": round(statistics.median(fetch_times), 4),
        # Counts are the maximum over the timed ticks, so that a median cannot hide a tick that needed more.
        "api_requests": max(tick["api_requests_served"] for tick in timed),
        "mongo_commands": max(tick["mongo_commands"] for tick in timed),
        "peak_rss_mb": round(worker["peak_rss_mb"], 1),
        "details": {
            "expected_api_requests": expected_requests,
            "tick_s_range": [round(min(tick_times), 4), round(max(tick_times), 4)],
            "fetch_only_s_range": [round(min(fetch_times), 4), round(max(fetch_times), 4)],
            "warmup_tick_s": round(warmup["tick_s"], 4),
            "mongo_commands_per_tick": {name: count / len(timed) for name, count in sorted(command_names.items())},
            "notifications_per_tick": statistics.median(tick["notifications"] for tick in timed),
            "rss_after_imports_mb": round(worker["rss_after_imports_mb"], 1),
            "problems": problems,
        },
    }


def target_report(row: dict[str, Any]) -> list[str]:
    """Return one line per target that the row misses."""
    misses = []
    ratio = row["tick_s"] / row["fetch_only_s"]
    if ratio > TARGET_RATIO:
        misses.append(f"N={row['n']}: tick_s / fetch_only_s is {ratio:.2f}, above {TARGET_RATIO}")
    if row["api_requests"] != row["details"]["expected_api_requests"]:
        misses.append(f"N={row['n']}: {row['api_requests']} API requests, expected ceil(N/20) = {row['details']['expected_api_requests']}")
    if row["mongo_commands"] > TARGET_MONGO_COMMANDS:
        misses.append(f"N={row['n']}: {row['mongo_commands']} MongoDB commands, above {TARGET_MONGO_COMMANDS}")
    if row["n"] == 1000 and row["tick_s"] > TARGET_TICK_S_AT_1000:
        misses.append(f"N=1000: tick_s is {row['tick_s']:.2f} s, above {TARGET_TICK_S_AT_1000} s")
    if row["n"] == 1000 and row["peak_rss_mb"] > TARGET_PEAK_RSS_MB_AT_1000:
        misses.append(f"N=1000: peak RSS is {row['peak_rss_mb']:.0f} MB, above {TARGET_PEAK_RSS_MB_AT_1000:.0f} MB")
    return misses


def render(rows: list[dict[str, Any]], args: argparse.Namespace, machine: dict[str, Any]) -> str:
    headers = ["N", "tick_s", "tick min-max", "fetch_only_s", "ratio", "api_requests", "mongo_commands", "peak_rss_mb", "goals/tick"]
    table_rows = [
        [
            str(row["n"]),
            f"{row['tick_s']:.3f}",
            "{:.3f}-{:.3f}".format(*row["details"]["tick_s_range"]),
            f"{row['fetch_only_s']:.3f}",
            f"{row['tick_s'] / row['fetch_only_s']:.2f}",
            f"{row['api_requests']} (ceil(N/20)={row['details']['expected_api_requests']})",
            str(row["mongo_commands"]),
            f"{row['peak_rss_mb']:.0f}",
            f"{row['details']['notifications_per_tick']:g}",
        ]
        for row in rows
    ]
    lines = [
        f"Poll tick: medians of {args.ticks} timed ticks after one warm-up tick, max_in_flight={args.max_in_flight}, "
        f"seed {args.seed}, ids= items {'with' if args.match_details else 'without'} lineups, statistics and players",
        f"Machine: {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['cpu']}, Python {machine['python']}, "
        f"load average {machine['load_average_1m']} before the run",
        "",
        format_table(headers, table_rows),
        "",
    ]
    for row in rows:
        per_tick = ", ".join(f"{name} {count:g}" for name, count in row["details"]["mongo_commands_per_tick"].items())
        lines.append(
            f"N={row['n']}: MongoDB commands per tick: {per_tick}; warm-up tick {row['details']['warmup_tick_s']:.3f} s; "
            f"RSS after imports {row['details']['rss_after_imports_mb']:.0f} MB"
        )
    misses = [miss for row in rows for miss in target_report(row)]
    lines += ["", "Targets: all met" if not misses else "Targets missed:\n  " + "\n  ".join(misses)]
    problems = [problem for row in rows for problem in row["details"]["problems"]]
    lines += ["Checks: every tick did the expected work" if not problems else "Checks failed:\n  " + "\n  ".join(problems)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_summary()
    configure_benchmark_logging()

    rows = []
    with ExitStack() as stack:
        mongo_uri = args.mongo_uri or start_secantus(stack, "bench-poll-tick-")
        mongo = connect(mongo_uri)
        stack.callback(mongo.close)
        for size in args.sizes:
            rows.append(measure_size(size, args, mongo, mongo_uri))
            logger.info("N=%d: tick %.3f s, fetch only %.3f s", size, rows[-1]["tick_s"], rows[-1]["fetch_only_s"])

    print(render(rows, args, machine))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        keys = ("n", "tick_s", "fetch_only_s", "api_requests", "mongo_commands", "peak_rss_mb")
        args.json.write_text(json.dumps([{key: row[key] for key in keys} for row in rows], indent=2) + "\n")
        print(f"\nwrote {args.json}")
    # A missed target is a result. A tick that did not do its work makes the numbers invalid.
    return 1 if any(row["details"]["problems"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
