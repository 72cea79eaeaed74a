"""The fixture store on a real MongoDB-wire server: bulk writes, moves, crash safety."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.database import Database

from fixture_assets.core.goals import GoalRules
from fixture_assets.core.observation import apply_observation
from fixture_assets.core.parse import parse_fixture
from fixture_assets.core.status import StatusClass
from fixture_assets.observe import PollSettings, observe_fixtures
from fixture_assets.store.database import FIXTURE_COLLECTIONS, NOTIFICATIONS, connect
from fixture_assets.store.fixtures import ConcurrentUpdateError, FixtureStore, TrackingWindow

from .conftest import CommandCounter

NOW = datetime(2026, 9, 12, 14, 0, tzinfo=UTC)
KICKOFF = NOW - timedelta(minutes=30)


def raw(fixture_id: int, status: str = "1H", *, home_goals: int = 0, goal_minutes: tuple[int, ...] = (),
        kickoff: datetime = KICKOFF) -> dict:
    events = [
        {"time": {"elapsed": minute, "extra": None}, "team": {"id": 10, "name": "Home"},
         "player": {"id": 100 + minute, "name": f"Player {minute}"}, "assist": {"id": None, "name": None},
         "type": "Goal", "detail": "Normal Goal", "comments": None}
        for minute in goal_minutes
    ]
    return {
        "fixture": {"id": fixture_id, "date": kickoff.isoformat(), "timestamp": int(kickoff.timestamp()),
                    "status": {"short": status, "long": None, "elapsed": 30, "extra": None}},
        "league": {"id": 1, "name": "League", "country": "Nowhere", "season": 2026, "round": "1"},
        "teams": {"home": {"id": 10, "name": "Home"}, "away": {"id": 20, "name": "Away"}},
        "goals": {"home": home_goals, "away": 0},
        "score": {},
        "events": events,
    }


def seed(store: FixtureStore, raws: list[dict]) -> None:
    """Store fixtures as a first poll would."""
    batch = observe_fixtures({}, [parse_fixture(item) for item in raws], PollSettings(), NOW)
    store.write(batch.updates, batch.notification_writes, NOW)


def poll(store: FixtureStore, raws: list[dict], now: datetime = NOW):
    loaded = store.load_fixtures(item["fixture"]["id"] for item in raws)
    batch = observe_fixtures(loaded.by_id, [parse_fixture(item) for item in raws], PollSettings(), now)
    return loaded, batch


def placement(database: Database) -> Counter:
    """Count in how many collections each fixture id is visible."""
    seen: Counter = Counter()
    for name in FIXTURE_COLLECTIONS:
        seen.update(document["fixture_id"] for document in database[name].find({}, {"fixture_id": 1}))
    return seen


@pytest.mark.parametrize("count", [20, 200])
def test_tick_commands_constant(mongo_uri, mongo_db, count):
    counter = CommandCounter()
    client = connect(mongo_uri, event_listeners=[counter])
    store = FixtureStore(client[mongo_db.name])
    seed(store, [raw(fixture_id, "NS", kickoff=NOW + timedelta(seconds=30)) for fixture_id in range(1, count + 1)])

    counter.reset()
    loaded = store.load_tracked(TrackingWindow(NOW))
    # Every kind of write at once: kick-offs, a goal, a finish.
    raws = [raw(fixture_id, "1H") for fixture_id in range(1, count + 1)]
    raws[0] = raw(1, "1H", home_goals=1, goal_minutes=(12,))
    raws[1] = raw(2, "FT")
    batch = observe_fixtures(loaded.by_id, [parse_fixture(item) for item in raws], PollSettings(), NOW)
    store.write(batch.updates, batch.notification_writes, NOW)

    assert len(loaded.by_id) == count
    assert counter.data_commands() == ["aggregate", "update", "update", "update", "delete", "commitTransaction"]
    assert placement(mongo_db) == Counter({fixture_id: 1 for fixture_id in range(1, count + 1)})
    client.close()


def test_move_keeps_created_at_and_goals(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [raw(5, "2H", home_goals=1, goal_minutes=(12,))])
    created = mongo_db.live_fixtures.find_one({"fixture_id": 5})["created_at"]

    loaded, batch = poll(store, [raw(5, "FT", home_goals=1, goal_minutes=(12,))], NOW + timedelta(hours=1))
    store.write(batch.updates, batch.notification_writes, NOW + timedelta(hours=1))

    document = mongo_db.completed_fixtures.find_one({"fixture_id": 5})
    assert mongo_db.live_fixtures.count_documents({}) == 0
    assert document["created_at"] == created
    assert document["revision"] == 2
    assert [record["key"] for record in document["goal_records"]] == ["5-10-1"]
    assert mongo_db[NOTIFICATIONS].count_documents({}) == 1


class Crash(Exception):
    pass


STEPS = [f"after {NOTIFICATIONS}", "after completed_fixtures", "after live_fixtures", "after staged_fixtures",
         "before commit"]


@pytest.mark.parametrize("crash_step", STEPS)
def test_interrupted_move_completed_later(mongo_db, crash_step):
    store = FixtureStore(mongo_db)
    seed(store, [raw(1, "NS", kickoff=NOW), raw(2, "1H"), raw(3, "1H")])
    loaded, batch = poll(store, [raw(1, "1H", home_goals=1, goal_minutes=(3,)), raw(2, "FT"), raw(3, "2H")])
    visible_at_steps: list[Counter] = []

    def crash_at(step: str) -> None:
        # Seen from another client, mid-transaction: nothing moved yet.
        visible_at_steps.append(placement(mongo_db))
        if step == crash_step:
            raise Crash(step)

    with pytest.raises(Crash):
        store.write(batch.updates, batch.notification_writes, NOW, step_hook=crash_at)

    assert all(seen == Counter({1: 1, 2: 1, 3: 1}) for seen in visible_at_steps)
    assert mongo_db.staged_fixtures.find_one({"fixture_id": 1}) is not None
    assert mongo_db[NOTIFICATIONS].count_documents({}) == 0

    loaded, batch = poll(store, [raw(1, "1H", home_goals=1, goal_minutes=(3,)), raw(2, "FT"), raw(3, "2H")])
    store.write(batch.updates, batch.notification_writes, NOW)

    assert placement(mongo_db) == Counter({1: 1, 2: 1, 3: 1})
    assert mongo_db.live_fixtures.find_one({"fixture_id": 1})["status"]["short"] == "1H"
    assert mongo_db.completed_fixtures.find_one({"fixture_id": 2}) is not None
    assert mongo_db[NOTIFICATIONS].count_documents({}) == 1


@pytest.mark.parametrize("command", ["update", "delete", "commitTransaction"])
@pytest.mark.parametrize("failure", [{"errorCode": 2}, {"closeConnection": True}], ids=["error-code", "closed-connection"])
def test_failed_command_leaves_nothing_half_done(mongo_client, mongo_db, command, failure):
    store = FixtureStore(mongo_db, transaction_timeout_s=0)
    seed(store, [raw(1, "NS", kickoff=NOW), raw(2, "1H")])
    loaded, batch = poll(store, [raw(1, "1H"), raw(2, "FT")])

    mongo_client.admin.command(
        {"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": [command], **failure}}
    )
    try:
        try:
            store.write(batch.updates, batch.notification_writes, NOW)
            outcome = "written"
        except Exception:  # noqa: BLE001 - any failure is acceptable, half a move is not
            outcome = "failed"
    finally:
        mongo_client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})

    assert placement(mongo_db) == Counter({1: 1, 2: 1})
    if outcome == "failed":
        loaded, batch = poll(store, [raw(1, "1H"), raw(2, "FT")])
        store.write(batch.updates, batch.notification_writes, NOW)
    assert mongo_db.live_fixtures.find_one({"fixture_id": 1}) is not None
    assert mongo_db.completed_fixtures.find_one({"fixture_id": 2}) is not None
    assert placement(mongo_db) == Counter({1: 1, 2: 1})


def test_stale_read_rejected(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [raw(1, "1H")])
    _, stale = poll(store, [raw(1, "1H", home_goals=1, goal_minutes=(20,))])
    _, fresh = poll(store, [raw(1, "2H")])
    store.write(fresh.updates, fresh.notification_writes, NOW)

    with pytest.raises(ConcurrentUpdateError, match="live_fixtures changed"):
        store.write(stale.updates, stale.notification_writes, NOW)

    assert mongo_db.live_fixtures.find_one({"fixture_id": 1})["status"]["short"] == "2H"
    assert mongo_db[NOTIFICATIONS].count_documents({}) == 0


def test_duplicate_copy_repaired(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [raw(1, "1H")])
    mongo_db.staged_fixtures.insert_one({"fixture_id": 1, "kickoff": KICKOFF, "status": {"short": "NS"}, "revision": 4})

    loaded, batch = poll(store, [raw(1, "1H")])
    store.write(batch.updates, batch.notification_writes, NOW, stale_copies=loaded.stale_copies)

    assert loaded.by_id[1].collection is StatusClass.LIVE
    assert placement(mongo_db) == Counter({1: 1})


def test_tracked_set_rules(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [
        raw(1, "1H"),
        raw(2, "NS", kickoff=NOW + timedelta(seconds=50)),
        raw(3, "NS", kickoff=NOW + timedelta(hours=2)),
        raw(4, "PST", kickoff=NOW - timedelta(days=3)),
        raw(5, "NS", kickoff=NOW + timedelta(days=3)),
        raw(6, "FT"),
    ])

    now_tracked = store.load_tracked(TrackingWindow(NOW)).by_id
    later_tracked = store.load_tracked(TrackingWindow(NOW + timedelta(minutes=15))).by_id

    assert sorted(now_tracked) == [1, 2]
    assert sorted(later_tracked) == [1, 2, 3, 4]


def test_clock_only_poll_written_when_due(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [raw(1, "1H", home_goals=1, goal_minutes=(5,))])
    before = mongo_db.live_fixtures.find_one({"fixture_id": 1})
    later = raw(1, "1H", home_goals=1, goal_minutes=(5,))
    later["fixture"]["status"]["elapsed"] = 31

    written_at = []
    for minute in range(1, 11):
        now = NOW + timedelta(minutes=minute)
        loaded, batch = poll(store, [later], now)
        store.write(batch.writes, batch.notification_writes, now)
        if batch.writes:
            written_at.append(minute)
    after = mongo_db.live_fixtures.find_one({"fixture_id": 1})

    assert not batch.updates[0].changed
    assert len(written_at) == 1
    assert after["status"]["elapsed"] == 31
    assert after["updated_at"] == before["updated_at"]
    assert after["last_checked"] == NOW + timedelta(minutes=written_at[0])


def test_staged_refresh_always_written(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [raw(1, "NS", kickoff=NOW + timedelta(hours=3))])
    now = NOW + timedelta(minutes=15)

    loaded, batch = poll(store, [raw(1, "NS", kickoff=NOW + timedelta(hours=3))], now)
    store.write(batch.writes, batch.notification_writes, now)

    assert mongo_db.staged_fixtures.find_one({"fixture_id": 1})["last_checked"] == now


def test_goal_rules_roundtrip(mongo_db):
    store = FixtureStore(mongo_db)
    seed(store, [raw(1, "1H", home_goals=1, goal_minutes=(5,))])
    stored = store.load_fixtures([1]).by_id[1]

    update = apply_observation(stored, parse_fixture(raw(1, "1H", home_goals=1, goal_minutes=(5,))), GoalRules())

    assert update.notifications == ()
    assert update.goal_records == stored.goal_records
