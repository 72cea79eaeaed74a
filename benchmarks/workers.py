"""Worker processes of the benchmarks: ``python -m benchmarks.workers ticks|discovery``.

The parent (``benchmarks.poll_tick`` or ``benchmarks.discovery_backfill``)
starts a worker, sends its configuration on stdin and replies to its requests.
A worker imports only the pipeline's tick and discovery code, not the replay
server, so its peak RSS is that of a process that polls.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from datetime import datetime
from typing import Any

from benchmarks.harness import MongoCommandCounter, WorkerChannel, current_rss_mb, peak_rss_mb
from fixture_assets.discovery import DiscoveryFilter, FixtureBatchResult, discover_match_date
from fixture_assets.football_api import ApiClientSettings, FootballApiClient
from fixture_assets.observe import PollSettings
from fixture_assets.poller_state import PollerState
from fixture_assets.store.database import connect
from fixture_assets.store.fixtures import FixtureStore
from fixture_assets.tick import run_tick

# The replay server accepts any key; a placeholder keeps the key header in use.
BENCHMARK_API_KEY = "benchmark"


def run_ticks(channel: WorkerChannel) -> dict[str, Any]:
    """Run a poll tick and a fetch of the same fixtures at each configured time.

    Each tick opens a new API client, as the Dagster sensor does, and shares
    one MongoClient across ticks, as the sensor's resource does. The
    fetch-only measurement uses a new client with the same settings.
    """
    config = channel.config
    rss_after_imports = current_rss_mb()
    counter = MongoCommandCounter()
    mongo = connect(config["mongo_uri"], event_listeners=[counter])
    store = FixtureStore(mongo[config["database"]])
    api_settings = _api_settings(config)
    fixture_ids = config["fixture_ids"]
    state = PollerState()
    settings = PollSettings()

    ticks = []
    for at_text in config["tick_times"]:
        at = datetime.fromisoformat(at_text)
        channel.request("set_clock", at=at_text)
        counter.take()

        started = time.perf_counter()
        with FootballApiClient(api_settings) as client:
            result = run_tick(store, client, state, settings, at)
        tick_s = time.perf_counter() - started
        commands = counter.take()
        tick_served = channel.request("served")["requests"]

        started = time.perf_counter()
        with FootballApiClient(api_settings) as client:
            batch = client.fixtures_by_ids(fixture_ids)
        fetch_only_s = time.perf_counter() - started
        fetch_served = channel.request("served")["requests"]

        ticks.append(
            {
                "at": at_text,
                "tick_s": tick_s,
                "fetch_only_s": fetch_only_s,
                "api_requests": result.requests,
                "api_requests_served": tick_served,
                "fetch_only_requests_served": fetch_served,
                "fetch_only_fixtures": len(batch.fixtures),
                "fetch_only_failures": len(batch.failures),
                "mongo_commands": sum(commands.values()),
                "mongo_command_names": dict(commands),
                "tracked": result.tracked,
                "updates": len(result.updates),
                "changed": len(result.changed),
                "notifications": len(result.notifications),
                "failures": len(result.failures),
                "skip_reason": result.skip_reason,
            }
        )
    mongo.close()
    return {"ticks": ticks, "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_after_imports}


def run_discovery(channel: WorkerChannel) -> dict[str, Any]:
    """Discover one match date twice in a row: into an empty store, then again."""
    config = channel.config
    counter = MongoCommandCounter()
    mongo = connect(config["mongo_uri"], event_listeners=[counter])
    store = FixtureStore(mongo[config["database"]])
    now = datetime.fromisoformat(config["now"])

    runs = []
    for label in ("first", "repeat"):
        counter.take()
        channel.request("served")
        started = time.perf_counter()
        with FootballApiClient(_api_settings(config)) as client:
            result = discover_match_date(store, client, config["match_date"], DiscoveryFilter(), PollSettings(), now)
        wall_s = time.perf_counter() - started
        commands = counter.take()
        served = channel.request("served")
        runs.append(
            {
                "run": label,
                "wall_s": wall_s,
                "api_requests": result.requests,
                "api_requests_served": served["requests"],
                "requests_by_query": served["by_query"],
                "mongo_commands": sum(commands.values()),
                "mongo_command_names": dict(commands),
                **_discovery_counts(result),
            }
        )
    mongo.close()
    return {"runs": runs, "peak_rss_mb": peak_rss_mb()}


def _discovery_counts(result: FixtureBatchResult) -> dict[str, Any]:
    written = [update for update in result.updates if update.ignored_reason is None]
    return {
        "seen": result.seen,
        "written": len(written),
        "new": len(result.new_fixtures),
        "changed": len(result.changed),
        "by_collection": dict(Counter(update.collection.value for update in written)),
        "notifications": len(result.notifications),
        "failures": len(result.failures),
        "rejected": result.rejected,
    }


def _api_settings(config: dict[str, Any]) -> ApiClientSettings:
    return ApiClientSettings(
        base_url=config["base_url"], api_key=BENCHMARK_API_KEY, max_in_flight=config["max_in_flight"]
    )


WORKERS = {"ticks": run_ticks, "discovery": run_discovery}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(WORKERS), help="which measurement to run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="worker %(levelname)s %(name)s: %(message)s")
    channel = WorkerChannel()
    channel.finish(WORKERS[args.kind](channel))


if __name__ == "__main__":
    main()
