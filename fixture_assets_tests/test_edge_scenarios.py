"""API behaviours of the same kinds as the shared scenarios, built in code and replayed through the tick."""

from __future__ import annotations

from typing import Any

import pytest

from fixture_assets.replay.runner import compare_report, run_scenario
from fixture_assets.replay.scenario_source import ScenarioSource
from fixture_assets.store.database import NOTIFICATIONS

from .scenario_builder import AWAY, HOME, alert, cancelled, fixture, goal, poll

CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "two-goals-same-minute": (
        [poll(20, [fixture("1H", 21, 2, 0, [goal(HOME, 20, player=11), goal(HOME, 20, player=12)])]),
         poll(21, [fixture("1H", 22, 2, 0, [goal(HOME, 20, player=12), goal(HOME, 20, player=11)])])],
        {"alerts": [alert(HOME, 20), alert(HOME, 20)], "cancellations": [], "followups": []},
    ),
    "same-scorer-minute-moved-far": (
        [poll(20, [fixture("1H", 21, 1, 0, [goal(HOME, 20, player=11)])]),
         poll(27, [fixture("1H", 28, 1, 0, [goal(HOME, 26, player=11)])]),
         poll(28, [fixture("1H", 29, 1, 0, [goal(HOME, 26, player=11)])]),
         poll(29, [fixture("1H", 30, 1, 0, [goal(HOME, 26, player=11)])])],
        {"alerts": [alert(HOME, 20)], "cancellations": [], "followups": []},
    ),
    "var-and-new-goal-same-poll": (
        [poll(30, [fixture("1H", 31, 1, 0, [goal(HOME, 30, player=11)])]),
         poll(35, [fixture("1H", 36, 1, 0, [goal(HOME, 34, player=12)])]),
         poll(36, [fixture("1H", 37, 1, 0, [goal(HOME, 34, player=12)])])],
        {"alerts": [alert(HOME, 30), alert(HOME, 34)], "cancellations": [alert(HOME, 30)],
         "followups": [cancelled(HOME, 30)]},
    ),
    "new-scorer-near-withdrawn-goal": (
        [poll(30, [fixture("1H", 31, 1, 0, [goal(HOME, 30, player=11)])]),
         poll(31, [fixture("1H", 32, 0, 0, [])]),
         poll(32, [fixture("1H", 33, 0, 0, [])]),
         poll(33, [fixture("1H", 34, 1, 0, [goal(HOME, 32, player=12)])])],
        {"alerts": [alert(HOME, 30), alert(HOME, 32)], "cancellations": [alert(HOME, 30)],
         "followups": [cancelled(HOME, 30)]},
    ),
    "goal-event-after-full-time": (
        [poll(93, [fixture("2H", 90, 0, 0, [])]),
         poll(95, [fixture("2H", 90, 1, 0, [])]),
         poll(97, [fixture("FT", 90, 1, 0, [])]),
         poll(99, [fixture("FT", 90, 1, 0, [goal(HOME, 90, 4, player=11)])])],
        {"alerts": [alert(HOME, 90, 4)], "cancellations": [], "followups": []},
    ),
    "extra-time-and-shootout": (
        [poll(120, [fixture("ET", 106, 1, 1, [goal(HOME, 50, player=11), goal(AWAY, 105, 1, player=12, detail="Penalty")])]),
         poll(140, [fixture("P", 120, 1, 1, [goal(HOME, 50, player=11), goal(AWAY, 105, 1, player=12, detail="Penalty")]
                            + [goal(HOME, 120, kick, player=20 + kick, detail="Penalty", comments="Penalty Shootout")
                               for kick in (1, 3, 5)])]),
         poll(150, [fixture("PEN", 120, 1, 1, [goal(HOME, 50, player=11), goal(AWAY, 105, 1, player=12, detail="Penalty")])])],
        {"alerts": [alert(HOME, 50), alert(AWAY, 105, 1)], "cancellations": [], "followups": []},
    ),
    "fixture-date-out-of-range": (
        [poll(20, [fixture("1H", 21, 1, 0, [goal(HOME, 20, player=11)]),
                   fixture("1H", 21, 0, 0, [], fixture_id=5001, date="9999-12-31T23:00:00-05:00")])],
        {"alerts": [alert(HOME, 20)], "cancellations": [], "followups": []},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_scenario(name, mongo_db):
    polls, expect = CASES[name]

    run = run_scenario(ScenarioSource({"name": name, "polls": polls}), mongo_db)

    assert compare_report(run.report, expect) == []


def test_new_goal_keeps_its_own_scorer(mongo_db):
    polls = [
        poll(20, [fixture("1H", 21, 1, 0, [goal(HOME, 20, player=11, name="Scorer Eleven")])]),
        poll(25, [fixture("1H", 26, 2, 0, [goal(HOME, 22, player=12, name="Scorer Twelve"),
                                           goal(HOME, 24, player=11, name="Scorer Eleven")])]),
    ]

    run_scenario(ScenarioSource({"name": "correction-plus-new", "polls": polls}), mongo_db)

    records = {record["key"]: record for record in mongo_db.live_fixtures.find_one()["goal_records"]}
    second = mongo_db[NOTIFICATIONS].find_one({"key": "5000-100-2"})
    assert second["elapsed"] == 22
    assert records["5000-100-2"]["player_name"] == "Scorer Twelve"
    assert records["5000-100-1"]["player_name"] == "Scorer Eleven"
    assert records["5000-100-1"]["elapsed"] == 24


def test_duplicate_fixture_in_date_answer(mongo_db):
    item = fixture("NS", None, None, None, None)
    discovery = {"get": "fixtures", "parameters": {"date": "2024-06-01"}, "errors": [], "results": 2,
                 "paging": {"current": 1, "total": 1}, "response": [item, item]}
    polls = [poll(20, [fixture("1H", 21, 1, 0, [goal(HOME, 20, player=11)])])]

    run = run_scenario(ScenarioSource({"name": "duplicate", "discovery": discovery, "polls": polls}), mongo_db)

    assert run.failed_ticks == []
    assert compare_report(run.report, {"alerts": [alert(HOME, 20)]}) == []
