"""Status order, collection moves and tolerant parsing (no I/O)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from fixture_assets.core.goals import GoalRules
from fixture_assets.core.models import TeamGoals
from fixture_assets.core.observation import StoredFixture, apply_observation
from fixture_assets.core.parse import parse_fixture, parse_fixtures
from fixture_assets.core.status import StatusClass, is_backwards, status_class

from .conftest import SAMPLES_DIR


def raw_fixture(status: str = "1H", *, fixture_id: int = 77, events: list | None = None, goals=(0, 0)) -> dict:
    return {
        "fixture": {"id": fixture_id, "date": "2026-09-12T13:30:00+00:00", "status": {"short": status, "long": None, "elapsed": 10, "extra": None}},
        "league": {"id": 1, "name": "League", "country": "Nowhere", "season": 2026, "round": "1"},
        "teams": {"home": {"id": 10, "name": "Home"}, "away": {"id": 20, "name": "Away"}},
        "goals": {"home": goals[0], "away": goals[1]},
        "score": {},
        "events": events if events is not None else [],
    }


def stored(status: str, collection: StatusClass) -> StoredFixture:
    return StoredFixture(77, collection, status, None, datetime(2026, 9, 12, 13, 30, tzinfo=UTC), TeamGoals(0, 0), None, (), 3)


@pytest.mark.parametrize(
    "before, after, backwards",
    [
        ("2H", "1H", True),
        ("1H", "NS", True),
        ("FT", "2H", True),
        ("HT", "2H", False),
        ("NS", "PST", False),
        ("PST", "NS", False),
        ("2H", "SUSP", False),
        ("SUSP", "2H", False),
        ("SUSP", "NS", True),
        ("FT", "AET", False),
        ("2H", "XYZ", False),
    ],
)
def test_status_order(before, after, backwards):
    assert is_backwards(before, after) is backwards


@pytest.mark.parametrize(
    "short, expected",
    [("TBD", StatusClass.STAGED), ("PST", StatusClass.STAGED), ("INT", StatusClass.LIVE), ("P", StatusClass.LIVE),
     ("AWD", StatusClass.COMPLETED), ("WO", StatusClass.COMPLETED), ("XYZ", None)],
)
def test_status_classes(short, expected):
    assert status_class(short) is expected


def test_backwards_poll_ignored():
    update = apply_observation(stored("2H", StatusClass.LIVE), parse_fixture(raw_fixture("1H")), GoalRules())

    assert update.ignored_reason is not None
    assert "1H" in update.ignored_reason
    assert update.collection is StatusClass.LIVE
    assert not update.changed


def test_kickoff_moves_fixture_to_live():
    update = apply_observation(stored("NS", StatusClass.STAGED), parse_fixture(raw_fixture("1H")), GoalRules())

    assert update.moved
    assert update.collection is StatusClass.LIVE
    assert update.changed


def test_unknown_status_keeps_collection():
    update = apply_observation(stored("2H", StatusClass.LIVE), parse_fixture(raw_fixture("XYZ")), GoalRules())

    assert update.collection is StatusClass.LIVE
    assert not update.moved


def test_clock_only_change_not_reported():
    first = apply_observation(None, parse_fixture(raw_fixture("1H")), GoalRules())
    previous = StoredFixture(77, first.collection, "1H", 10, first.fixture.kickoff, first.fixture.goals, first.events_digest, first.goal_records, 1)
    later = raw_fixture("1H")
    later["fixture"]["status"]["elapsed"] = 11

    assert not apply_observation(previous, parse_fixture(later), GoalRules()).changed


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda item: item["fixture"].update(id="77"), "fixture.id"),
        (lambda item: item["fixture"].update(id=True), "fixture.id"),
        (lambda item: item["fixture"].update(id=2**70), "64-bit"),
        (lambda item: item["fixture"].update(date="yesterday"), "fixture.date"),
        (lambda item: item["fixture"]["status"].pop("short"), "status.short"),
        (lambda item: item.update(goals={"home": -1, "away": 0}), "goals.home"),
        (lambda item: item.update(events="none"), "events"),
        (lambda item: item.update(events=[{"time": {"elapsed": "5"}, "type": "Goal"}]), "events[0].time.elapsed"),
        (lambda item: item.update(events=[{"time": {}, "type": "Goal", "x": {"$where": 1}}]), "$where"),
        (lambda item: item.pop("teams"), "teams"),
    ],
)
def test_invalid_fixture_names_field(mutate, reason):
    item = raw_fixture()
    mutate(item)

    with pytest.raises(ValueError, match="fixture") as error:
        parse_fixture(item)
    assert reason in str(error.value)


def test_bad_fixture_skipped_in_batch():
    good = raw_fixture(fixture_id=1)
    bad = raw_fixture(fixture_id=2)
    bad["teams"]["home"]["id"] = None

    parsed = parse_fixtures([good, bad, "garbage"])

    assert [fixture.id for fixture in parsed.fixtures] == [1]
    assert [error.fixture_id for error in parsed.rejected] == [2, None]


def test_lone_surrogate_replaced():
    item = raw_fixture(events=[{"time": {"elapsed": 5, "extra": None}, "team": {"id": 10, "name": "Home"},
                                "player": {"id": 1, "name": "Bad\udcffName"}, "assist": {}, "type": "Goal",
                                "detail": "Normal Goal", "comments": None}])

    fixture = parse_fixture(item)

    assert fixture.events[0].player_name == "Bad\ufffdName"
    assert fixture.raw_events[0]["player"]["name"] == "Bad\ufffdName"


def test_deep_nesting_rejected():
    deep: dict = {}
    cursor = deep
    for _ in range(50):
        cursor["x"] = {}
        cursor = cursor["x"]
    item = raw_fixture(events=[{"time": {"elapsed": 5}, "type": "Card", "detail": "Yellow Card", "deep": deep}])

    with pytest.raises(ValueError, match="nested"):
        parse_fixture(item)


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.json")), ids=lambda path: path.name)
def test_recorded_samples_parse(path, shared_dir):
    data = json.loads(path.read_text())
    if isinstance(data, dict) and data.get("get") == "fixtures/events":
        pytest.skip("the events endpoint answers events, not fixtures")
    items = data["response"] if isinstance(data, dict) else data

    parsed = parse_fixtures(copy.deepcopy(items))

    assert parsed.rejected == []
    assert len(parsed.fixtures) == len(items)


@pytest.mark.parametrize("date", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"])
def test_out_of_range_date_rejected(date):
    item = raw_fixture()
    item["fixture"]["date"] = date

    parsed = parse_fixtures([item, raw_fixture(fixture_id=78)])

    assert [fixture.id for fixture in parsed.fixtures] == [78]
    assert "out of range" in parsed.rejected[0].reason
