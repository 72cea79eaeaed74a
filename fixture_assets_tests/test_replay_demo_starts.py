"""The demo days of one data folder: resumed while they play, replaced after they end."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from pymongo.database import Database

from fixture_assets.replay.demo_starts import demo_ends_at, plan_demo, read_demo_starts
from fixture_assets.store.database import DISCOVERIES
from fixture_assets.store.discoveries import forget_discoveries, record_discovery
from fixture_assets_tests.replay_fixtures import DEMO_STARTED_AT

PACE = 5.0
DELAY = 2.0
FIRST_OFFSET = 100
SECOND_OFFSET = 200
# The demo fixture that plays longest, with extra time and a shoot-out.
SHOOTOUT = 9100008


def plan(path: Path, minutes_after_start: float, offset: int, pace: float = PACE):
    now = DEMO_STARTED_AT + timedelta(minutes=minutes_after_start)
    return plan_demo(path, now, pace, DELAY, offset)


def test_first_start_plays_new_day(tmp_path: Path) -> None:
    path = tmp_path / "demo_days.json"

    first = plan(path, 0, FIRST_OFFSET)

    assert not first.resumed
    assert first.current.fixture_id_offset == FIRST_OFFSET
    assert first.match_dates == ("2026-05-01",)
    assert [start.started_at for start in read_demo_starts(path)] == [DEMO_STARTED_AT]


def test_restart_mid_match_resumes_day(tmp_path: Path) -> None:
    path = tmp_path / "demo_days.json"
    first = plan(path, 0, FIRST_OFFSET)

    again = plan(path, 5, SECOND_OFFSET)

    assert again.resumed
    assert again.current == first.current
    assert sorted(again.source.fixture_ids) == sorted(first.source.fixture_ids)
    assert len(read_demo_starts(path)) == 1


def test_restart_after_day_ends_plays_new_day(tmp_path: Path) -> None:
    path = tmp_path / "demo_days.json"
    first = plan(path, 0, FIRST_OFFSET)
    ended = demo_ends_at(first.current.source())
    minutes_after_end = (ended - DEMO_STARTED_AT).total_seconds() / 60 + 1

    second = plan(path, minutes_after_end, SECOND_OFFSET)

    assert not second.resumed
    assert second.current.fixture_id_offset == SECOND_OFFSET
    # The earlier day's fixtures are still served, at their final status.
    old_shootout = SHOOTOUT + FIRST_OFFSET
    assert old_shootout in second.source.fixture_ids
    assert SHOOTOUT + SECOND_OFFSET in second.source.fixture_ids
    final = second.source.fixture(old_shootout).render(second.current.started_at)
    assert final["fixture"]["status"]["short"] == "PEN"


def test_other_pace_plays_new_day(tmp_path: Path) -> None:
    path = tmp_path / "demo_days.json"
    plan(path, 0, FIRST_OFFSET)

    faster = plan(path, 1, SECOND_OFFSET, pace=1.0)

    assert not faster.resumed
    assert faster.current.minute_seconds == 1.0


def test_record_keeps_three_days(tmp_path: Path) -> None:
    path = tmp_path / "demo_days.json"
    for index in range(5):
        plan(path, index, FIRST_OFFSET * (index + 1), pace=1.0 + index)

    starts = read_demo_starts(path)

    assert [start.fixture_id_offset for start in starts] == [300, 400, 500]


@pytest.mark.parametrize("text", ["{not json", '{"starts": [{"started_at": "2026-05-01T12:00:10"}]}', "[]"])
def test_damaged_record_starts_new_day(tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str) -> None:
    path = tmp_path / "demo_days.json"
    path.write_text(text, encoding="utf-8")

    with caplog.at_level(logging.WARNING):
        result = plan(path, 0, FIRST_OFFSET)

    assert not result.resumed
    assert f"ignoring the demo day record {path}" in caplog.text
    assert json.loads(path.read_text(encoding="utf-8"))["starts"][0]["fixture_id_offset"] == FIRST_OFFSET


def test_forget_discoveries_deletes_dates(mongo_db: Database) -> None:
    for match_date in ("2026-05-01", "2026-05-02"):
        record_discovery(mongo_db, match_date, DEMO_STARTED_AT, fixtures=14)

    deleted = forget_discoveries(mongo_db, ["2026-05-01"])

    assert deleted == 1
    assert [document["match_date"] for document in mongo_db[DISCOVERIES].find()] == ["2026-05-02"]
