"""Discovery and backfill benchmark: one recorded match day of 1,183 fixtures.

The replay server serves a recorded ``GET /fixtures?date=2024-05-25``
response. A worker process runs ``discover_match_date`` for that date into
an empty database. Discovery stores every fixture, and fetches the ones
already in play or finished again with ``ids=`` to get their events. The
worker then runs it a second time on the filled database. Each run reports
its wall time, API requests and MongoDB commands.

Processes: this process runs the replay server (in threads), SecantusDB runs
as a child process, and discovery runs in a worker child process. All of
them use 127.0.0.1 only.

    python -m benchmarks.discovery_backfill --json benchmarks/results/discovery_backfill.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    REPO_ROOT,
    configure_benchmark_logging,
    format_table,
    machine_summary,
    run_worker,
    start_secantus,
)
from benchmarks.recorded_day_source import RecordedDaySource
from fixture_assets.core.status import StatusClass, status_class
from fixture_assets.football_api import MAX_IDS_PER_REQUEST
from fixture_assets.football_api.settings import MAX_IN_FLIGHT_LIMIT
from fixture_assets.replay import ReplayServer, VirtualClock
from fixture_assets.store.database import FIXTURE_COLLECTIONS, NOTIFICATIONS, connect, ensure_indexes

logger = logging.getLogger("benchmarks.discovery_backfill")

DEFAULT_DAY_FILE = REPO_ROOT.parent / "shared" / "api-football-samples" / "date-2024-05-25-1183-fixtures.json"
MATCH_DATE = "2024-05-25"
# Evening of the match day: the recorded in-play fixtures are treated as
# still in play, and their goals as recent enough to alert.
DISCOVERED_AT = datetime(2024, 5, 25, 20, 0, tzinfo=UTC)
DATABASE = "bench_discovery_backfill"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.discovery_backfill", description="Measure discovery of a recorded match day."
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as a JSON list to PATH")
    parser.add_argument(
        "--day-file",
        type=Path,
        default=DEFAULT_DAY_FILE,
        help=f"recorded date= envelope of {MATCH_DATE} (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated events (default: %(default)s)")
    parser.add_argument(
        "--mongo-uri", help=f"MongoDB replica set to use instead of starting SecantusDB; its database {DATABASE} is dropped"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds on a fresh database each; median wall times are reported (default: %(default)s)"
    )
    parser.add_argument(
        "--max-in-flight", type=int, default=4, help="concurrent ids= requests, as the API resource's max_in_flight (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds is {args.rounds}, but at least 1 round is needed")
    if not 1 <= args.max_in_flight <= MAX_IN_FLIGHT_LIMIT:
        parser.error(f"--max-in-flight is {args.max_in_flight}, but it must be between 1 and {MAX_IN_FLIGHT_LIMIT}")
    return args


def expected_ids_fixtures(source: RecordedDaySource) -> int:
    """Count the recorded fixtures that discovery must fetch with ids=: in play or finished."""
    return sum(1 for item in source.items if status_class(item["fixture"]["status"]["short"]) in (StatusClass.LIVE, StatusClass.COMPLETED))


def run(args: argparse.Namespace, source: RecordedDaySource) -> dict[str, Any]:
    """Run ``args.rounds`` rounds, each a first and a repeat discovery on a fresh database."""
    rounds = []
    with ExitStack() as stack:
        mongo_uri = args.mongo_uri or start_secantus(stack, "bench-discovery-")
        mongo = connect(mongo_uri)
        stack.callback(mongo.close)
        for _ in range(args.rounds):
            mongo.drop_database(DATABASE)
            ensure_indexes(mongo[DATABASE])
            with ReplayServer(source, clock=VirtualClock(DISCOVERED_AT, speed=0)) as server:
                worker = run_worker("discovery", _worker_config(args, mongo_uri, server.url), _served_counter(server))
            worker["stored"] = {name: mongo[DATABASE][name].count_documents({}) for name in FIXTURE_COLLECTIONS}
            worker["notifications_stored"] = mongo[DATABASE][NOTIFICATIONS].count_documents({})
            rounds.append(worker)
        mongo.drop_database(DATABASE)
    return summarize(rounds)


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Take the counts of the last round and the median wall time of each run over all rounds."""
    last = rounds[-1]
    runs = []
    for index, item in enumerate(last["runs"]):
        times = [worker["runs"][index]["wall_s"] for worker in rounds]
        runs.append({**item, "wall_s": statistics.median(times), "wall_s_range": [min(times), max(times)]})
    return {
        "runs": runs,
        "rounds": len(rounds),
        "counts_varied": any(_counts(worker) != _counts(last) for worker in rounds),
        "stored": last["stored"],
        "notifications_stored": last["notifications_stored"],
        "peak_rss_mb": max(worker["peak_rss_mb"] for worker in rounds),
    }


def _counts(worker: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [(item["api_requests_served"], item["mongo_commands"], item["written"]) for item in worker["runs"]]


def _worker_config(args: argparse.Namespace, mongo_uri: str, base_url: str) -> dict[str, Any]:
    return {
        "mongo_uri": mongo_uri,
        "database": DATABASE,
        "base_url": base_url,
        "max_in_flight": args.max_in_flight,
        "match_date": MATCH_DATE,
        "now": DISCOVERED_AT.isoformat(),
    }


def _served_counter(server: ReplayServer):  # noqa: ANN202 - a closure handed to run_worker
    counted = [0]

    def answer(message: dict[str, Any]) -> dict[str, Any]:
        if message["op"] != "served":
            raise ValueError(f"unknown worker request {message!r}")
        served = server.requests
        new, counted[0] = served[counted[0] :], len(served)
        by_query = Counter(next((name for name in ("date", "ids", "live") if name in request.params), request.path) for request in new)
        return {"requests": len(new), "by_query": dict(by_query)}

    return answer


def render(result: dict[str, Any], args: argparse.Namespace, machine: dict[str, Any]) -> str:
    runs = result["runs"]
    headers = ["run", "wall_s", "wall min-max", "api_requests", "date / ids", "mongo_commands", "seen", "written", "staged/live/completed", "notifications"]
    rows = []
    for item in runs:
        by_query = item["requests_by_query"]
        by_collection = item["by_collection"]
        rows.append(
            [
                item["run"],
                f"{item['wall_s']:.2f}",
                "{:.2f}-{:.2f}".format(*item["wall_s_range"]),
                str(item["api_requests_served"]),
                f"{by_query.get('date', 0)} / {by_query.get('ids', 0)}",
                str(item["mongo_commands"]),
                str(item["seen"]),
                str(item["written"]),
                "/".join(str(by_collection.get(collection, 0)) for collection in FIXTURE_COLLECTIONS),
                str(item["notifications"]),
            ]
        )
    lines = [
        f"Discovery of {MATCH_DATE} from {args.day_file.name}: medians of {result['rounds']} rounds, "
        f"max_in_flight={args.max_in_flight}, seed {args.seed}",
        f"Machine: {machine['cores']} cores, {machine['memory_gib']} GiB, {machine['cpu']}, Python {machine['python']}, "
        f"load average {machine['load_average_1m']} before the run",
        "",
        format_table(headers, rows),
        "",
    ]
    for item in runs:
        names = ", ".join(f"{name} {count}" for name, count in sorted(item["mongo_command_names"].items()))
        lines.append(f"{item['run']} run: MongoDB commands {names}; {item['failures']} failed requests, {item['rejected']} rejected items")
    stored = ", ".join(f"{name} {count}" for name, count in result["stored"].items())
    lines.append(f"Stored after both runs: {stored}, {NOTIFICATIONS} {result['notifications_stored']}")
    lines.append(f"Peak RSS of the discovery worker: {result['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)


def check(result: dict[str, Any], ids_fixtures: int) -> list[str]:
    """Return one line per way in which the runs did not do the expected work."""
    first, repeat = result["runs"]
    expected_first = 1 + math.ceil(ids_fixtures / MAX_IDS_PER_REQUEST)
    problems = []
    if first["api_requests_served"] != expected_first:
        problems.append(f"the first run sent {first['api_requests_served']} requests, expected 1 date= and ceil({ids_fixtures}/20) ids=")
    if repeat["api_requests_served"] != 1:
        problems.append(f"the repeat run sent {repeat['api_requests_served']} requests; only the date= request was expected")
    if result["counts_varied"]:
        problems.append("requests, commands or written fixtures differed between rounds")
    if first["failures"] or repeat["failures"]:
        problems.append("some requests failed; see the worker log above")
    if sum(result["stored"].values()) != first["seen"]:
        problems.append(f"{sum(result['stored'].values())} fixtures stored of {first['seen']} seen")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = machine_summary()
    configure_benchmark_logging()
    if not args.day_file.is_file():
        print(f"the recorded day {args.day_file} was not found; pass its path with --day-file", file=sys.stderr)
        return 2

    source = RecordedDaySource(args.day_file, seed=args.seed)
    result = run(args, source)
    print(render(result, args, machine))
    problems = check(result, expected_ids_fixtures(source))
    print("\nChecks: all passed" if not problems else "\nChecks failed:\n  " + "\n  ".join(problems))

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            {
                "run": item["run"],
                "wall_s": round(item["wall_s"], 4),
                "api_requests": item["api_requests_served"],
                "mongo_commands": item["mongo_commands"],
                "fixtures_seen": item["seen"],
                "fixtures_written": item["written"],
                "notifications": item["notifications"],
            }
            for item in result["runs"]
        ]
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
