"""Run a scenario through discovery and the poll tick, and report what was decided.

The runner plays every poll of a scenario at its recorded time: it sets the
replay server's clock to the poll's ``at`` and runs one tick with ``now`` at
the same time. The report is read back from MongoDB, the durable record of
goals and notifications, in the shape of the scenario's ``expect``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo.database import Database

from fixture_assets.core.goals import GoalState, NotificationKind
from fixture_assets.core.parse import parse_fixtures
from fixture_assets.discovery import DiscoveryFilter, discover_match_date
from fixture_assets.football_api import ApiClientSettings, FootballApiClient, FootballApiError
from fixture_assets.observe import PollSettings
from fixture_assets.poller_state import PollerState
from fixture_assets.replay.clock import VirtualClock
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.replay.server import ReplayServer
from fixture_assets.store.database import FIXTURE_COLLECTIONS, NOTIFICATIONS
from fixture_assets.store.fixtures import FixtureStore
from fixture_assets.store.notifications import NotificationState
from fixture_assets.tick import PollFailedError, run_tick

logger = logging.getLogger(__name__)

REPORT_KEYS = ("alerts", "cancellations", "followups", "final")


@dataclass(slots=True)
class ScenarioRun:
    name: str
    report: dict[str, list[dict[str, Any]]]
    ticks: int = 0
    skipped_ticks: int = 0
    failed_ticks: list[str] = field(default_factory=list)
    # The match dates discovered: empty when no poll lists a fixture in a valid response.
    discovered_dates: list[str] = field(default_factory=list)


def run_scenario(source: ScenarioSource, database: Database, settings: PollSettings | None = None) -> ScenarioRun:
    """Replay ``source`` against an empty ``database`` and return the report."""
    settings = settings or PollSettings()
    store = FixtureStore(database)
    clock = VirtualClock(source.initial_time(), speed=0)
    run = ScenarioRun(source.name, {})

    with ReplayServer(source, clock=clock) as server, FootballApiClient(_client_settings(server.url)) as client:
        first_at = source.polls[0].at
        run.discovered_dates = _discovery_dates(source)
        for match_date in run.discovered_dates:
            try:
                discover_match_date(store, client, match_date, DiscoveryFilter(), settings, first_at)
            except FootballApiError as error:
                run.failed_ticks.append(f"discovery of {match_date} at {first_at.isoformat()}: {error}")

        state = PollerState()
        for poll in source.polls:
            clock.set(poll.at)
            try:
                result = run_tick(store, client, state, settings, poll.at)
            except PollFailedError as error:
                run.failed_ticks.append(f"tick at {poll.at.isoformat()}: {error}")
                continue
            run.ticks += 1
            run.skipped_ticks += int(result.skip_reason is not None)

    run.report = read_report(database)
    return run


def read_report(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Read the alerts, withdrawals, follow-ups and final fixture states from MongoDB."""
    launched = list(database[NOTIFICATIONS].find({"state": {"$ne": NotificationState.SKIPPED.value}}, {"_id": 0}))
    alerts = [_goal(item) for item in launched if item["kind"] == NotificationKind.GOAL.value]
    followups = [{**_goal(item), "kind": item["kind"]} for item in launched if item["kind"] != NotificationKind.GOAL.value]

    cancellations, final = [], []
    for collection in FIXTURE_COLLECTIONS:
        for document in database[collection].find({}, {"_id": 0, "fixture_id": 1, "status": 1, "goals": 1, "goal_records": 1}):
            final.append(
                {
                    "fixture_id": document["fixture_id"],
                    "collection": collection,
                    "status": document["status"]["short"],
                    "goals": {"home": document["goals"]["home"], "away": document["goals"]["away"]},
                }
            )
            cancellations.extend(
                {"fixture_id": document["fixture_id"], "team_id": record["team_id"],
                 "elapsed": record["alert_elapsed"], "extra": record["alert_extra"]}
                for record in document.get("goal_records") or ()
                if record["state"] == GoalState.CANCELLED.value and record["alerted"]
            )
    return {"alerts": alerts, "cancellations": cancellations, "followups": followups, "final": final}


def compare_report(report: dict[str, list[dict[str, Any]]], expect: dict[str, Any]) -> list[str]:
    """Return one line per difference between a report and a scenario's ``expect``, as multisets."""
    differences = []
    for key in REPORT_KEYS:
        if key not in expect:
            continue
        got, expected = _multiset(report.get(key, [])), _multiset(expect[key])
        missing, extra = expected - got, got - expected
        if missing:
            differences.append(f"{key}: missing {_listing(missing)}")
        if extra:
            differences.append(f"{key}: unexpected {_listing(extra)}")
    return differences


def load_expect(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    expect = data.get("expect") if isinstance(data, dict) else None
    if not isinstance(expect, dict):
        raise ValueError(f"{path} has no expect object to check against")
    return expect


def _discovery_dates(source: ScenarioSource) -> list[str]:
    """The match dates of the fixtures that the date query of the scenario returns."""
    parsed = parse_fixtures(source.discovery_items())
    return sorted({fixture.match_date for fixture in parsed.fixtures})


def _client_settings(base_url: str) -> ApiClientSettings:
    # The replay server accepts any key; a placeholder keeps the real header path in use.
    return ApiClientSettings(base_url=base_url, api_key="replay-runner", retry_delay_s=0.05)


def _goal(notification: dict[str, Any]) -> dict[str, Any]:
    return {key: notification[key] for key in ("fixture_id", "team_id", "elapsed", "extra")}


def _multiset(items: list[dict[str, Any]]) -> Counter:
    return Counter(json.dumps(item, sort_keys=True) for item in items)


def _listing(items: Counter) -> str:
    return ", ".join(f"{item} x{count}" if count > 1 else item for item, count in sorted(items.items()))
