"""A recorded ``date=`` response served as a whole match day, for the discovery benchmark.

A ``date=`` request gets the recorded fixtures, as recorded. An ``ids=``
request gets the same items plus an ``events`` array, because the real API
returns events only for ``ids=``. The recording has no events, so they are
generated from a seed: one goal event per goal in ``goals``, as many of
them in the first half as ``score.halftime`` counts, and cards,
substitutions and VAR events up to 10 to 14 events. Fixtures that have not kicked off, or were cancelled
without a score, get an empty array.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.synthetic_source import EVENTS_PER_FIXTURE, goal_event, random_event
from fixture_assets.replay.api_source import FixturesApiSource
from fixture_assets.replay.envelopes import DateQuery, fixture_id, select_live, without_events
from fixture_assets.replay.protocol import ApiResponse, ReplayInputError, read_json_file


class RecordedDaySource(FixturesApiSource):
    """Serves the fixtures of one recorded ``date=`` envelope, with generated events for ``ids=``."""

    def __init__(self, path: Path, *, seed: int = 0) -> None:
        super().__init__()
        envelope = read_json_file(path, "recorded day")
        items = envelope.get("response") if isinstance(envelope, dict) else None
        if not isinstance(items, list) or not items:
            raise ReplayInputError(f"the recorded day {path} has no response array of fixtures")

        self._items = [without_events(item) for item in items]
        self._by_id = {fixture_id(item): item for item in self._items if fixture_id(item) is not None}
        self._events = {
            item_id: _generated_events(item, random.Random(seed * 1_000_003 + item_id)) for item_id, item in self._by_id.items()
        }
        self.description = f"recorded day {Path(path).name} ({len(self._items)} fixtures, generated events for ids=)"

    @property
    def items(self) -> list[dict[str, Any]]:
        """The recorded fixture items, without events."""
        return list(self._items)

    def fixtures_by_ids(self, ids: list[int], params: Mapping[str, str], now: datetime) -> ApiResponse:
        items = [{**self._by_id[item_id], "events": self._events[item_id]} for item_id in ids if item_id in self._by_id]
        return self.ok(params, items, now)

    def fixtures_by_date(self, query: DateQuery, params: Mapping[str, str], now: datetime) -> ApiResponse:
        return self.ok(params, query.select(self._items), now)

    def live_fixtures(self, leagues: frozenset[int] | None, params: Mapping[str, str], now: datetime) -> ApiResponse:
        return self.ok(params, select_live(self._items, leagues), now)


def _generated_events(item: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    status = item["fixture"]["status"]
    elapsed = status.get("elapsed")
    if not elapsed:
        return []

    teams = item["teams"]
    goals = item.get("goals") or {}
    halftime = (item.get("score") or {}).get("halftime") or {}
    events = []
    for side, other_side in (("home", "away"), ("away", "home")):
        team_goals = goals.get(side) or 0
        first_half_goals = min(halftime.get(side) or 0, team_goals)
        for number in range(team_goals):
            if number < first_half_goals or elapsed <= 45:
                minute = rng.randint(1, min(elapsed, 45))
            else:
                minute = rng.randint(46, max(46, elapsed))
            detail = rng.choices(("Normal Goal", "Penalty", "Own Goal"), (0.80, 0.12, 0.08))[0]
            events.append(goal_event(rng, minute, None, teams[side], teams[other_side], detail))

    filler = max(0, rng.randint(*EVENTS_PER_FIXTURE) - len(events))
    events += [random_event(rng, rng.randint(1, elapsed), teams["home"], teams["away"], goals=False) for _ in range(filler)]
    return sorted(events, key=lambda event: event["time"]["elapsed"])
