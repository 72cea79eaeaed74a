"""First discoveries requested by the minute sensor: dates with a partition, until MongoDB records one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from dagster import DailyPartitionsDefinition
from pymongo.database import Database

from fixture_assets.defs.fixtures import sensors
from fixture_assets.defs.resources import MongoResource
from fixture_assets.store.discoveries import forget_discoveries, record_discovery

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
TODAY = NOW.date().isoformat()
TOMORROW = (NOW.date() + timedelta(days=1)).isoformat()


def use_partitions_from(monkeypatch: pytest.MonkeyPatch, first_date: str) -> None:
    partitions = DailyPartitionsDefinition(start_date=first_date, end_offset=2, timezone="UTC")
    monkeypatch.setattr(sensors, "match_date_partitions", partitions)


def requested(cursor: sensors._Cursor, mongo: MongoResource, now: datetime) -> list[str]:
    return [request.partition_key for request in sensors._discovery_requests(cursor, mongo, now)]


@pytest.fixture
def mongo(mongo_uri: str, mongo_db: Database) -> MongoResource:
    return MongoResource(uri=mongo_uri, database=mongo_db.name)


def test_discovery_requests_today_and_tomorrow(mongo: MongoResource) -> None:
    cursor = sensors._Cursor.from_json(None)

    requests = sensors._discovery_requests(cursor, mongo, NOW)

    assert [request.partition_key for request in requests] == [TODAY, TOMORROW]
    assert requests[0].run_key == f"discover-{TODAY}-first-poll-{NOW:%Y%m%dT%H%M}"
    assert cursor.discovery_requested_at == {TODAY: NOW.isoformat(), TOMORROW: NOW.isoformat()}


def test_discovered_dates_not_requested(mongo: MongoResource, mongo_db: Database) -> None:
    record_discovery(mongo_db, TODAY, NOW, fixtures=3)

    assert requested(sensors._Cursor.from_json(None), mongo, NOW) == [TOMORROW]


def test_undiscovered_date_requested_again(mongo: MongoResource, mongo_db: Database) -> None:
    cursor = sensors._Cursor.from_json(None)
    requested(cursor, mongo, NOW)
    record_discovery(mongo_db, TOMORROW, NOW, fixtures=3)

    soon = requested(cursor, mongo, NOW + sensors.DISCOVERY_RETRY - timedelta(minutes=1))
    later = requested(cursor, mongo, NOW + sensors.DISCOVERY_RETRY)

    # Today's run failed, so MongoDB records no discovery of it.
    assert soon == []
    assert later == [TODAY]


def test_forgotten_discovery_requested_again(mongo: MongoResource, mongo_db: Database) -> None:
    for match_date in (TODAY, TOMORROW):
        record_discovery(mongo_db, match_date, NOW, fixtures=3)
    cursor = sensors._Cursor.from_json(None)
    assert requested(cursor, mongo, NOW) == []

    forget_discoveries(mongo_db, [TODAY])

    assert requested(cursor, mongo, NOW + timedelta(minutes=1)) == [TODAY]


def test_cursor_with_date_list_accepted(mongo: MongoResource) -> None:
    older = json.dumps({"poller": None, "discovery_requested": [TODAY, TOMORROW]})
    cursor = sensors._Cursor.from_json(older)

    assert requested(cursor, mongo, NOW) == [TODAY, TOMORROW]


def test_discovery_skips_date_without_partition(monkeypatch: pytest.MonkeyPatch, mongo: MongoResource) -> None:
    use_partitions_from(monkeypatch, TOMORROW)
    cursor = sensors._Cursor.from_json(None)

    assert requested(cursor, mongo, NOW) == [TOMORROW]
    assert list(cursor.discovery_requested_at) == [TOMORROW]


def test_discovery_without_partitions_requests_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_partitions_from(monkeypatch, (NOW.date() + timedelta(days=30)).isoformat())
    cursor = sensors._Cursor.from_json(None)

    # No date has a partition, so the sensor does not read MongoDB either.
    requests = sensors._discovery_requests(cursor, MongoResource(uri="mongodb://127.0.0.1:9/"), NOW)

    assert requests == []
    assert cursor.discovery_requested_at == {}
