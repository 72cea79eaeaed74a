"""Measure the costs of the MongoDB server that the poll tick and discovery depend on.

    python -m benchmarks.store_costs [--mongo-uri URI]

Without ``--mongo-uri`` it starts SecantusDB on 127.0.0.1. It prints:

- the time of 1,000 updates by ``fixture_id`` and ``revision`` in one
  ``bulk_write`` inside a transaction, as the tick writes them, for
  documents with and without 12 events, and of one ``update_many`` over the
  same 1,000 documents;
- the time of a ``$match`` on ``fixture_id: {$in: [k ids]}`` for growing
  k, as discovery loads a date's fixtures, beside a ``match_date`` equality
  match over the same documents.
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from typing import Any

from pymongo import UpdateOne
from pymongo.collection import Collection

from benchmarks.harness import start_secantus
from fixture_assets.store.database import connect, ensure_indexes

DOCUMENTS = 1000
DATABASE = "bench_store_costs"


def _event(minute: int) -> dict[str, Any]:
    return {
        "time": {"elapsed": minute, "extra": None},
        "team": {"id": 80001, "name": "Team 80001", "logo": "https://media.api-sports.io/football/teams/80001.png"},
        "player": {"id": 8000120, "name": "Player 20 of Team 80001"},
        "assist": {"id": None, "name": None},
        "type": "Card",
        "detail": "Yellow Card",
        "comments": "Foul",
    }


def _fixture(fixture_id: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "fixture_id": fixture_id,
        "match_date": "2025-05-17",
        "revision": 1,
        "status": {"short": "1H", "elapsed": 30},
        "league": {"id": 9001, "name": "Synthetic League 9001"},
        "teams": {"home": {"id": 80001, "name": "Team 80001"}, "away": {"id": 80002, "name": "Team 80002"}},
        "events": events,
    }


def measure_updates(collection: Collection, events: int) -> tuple[float, float]:
    """Return the seconds of 1,000 guarded UpdateOne in one transaction, and of one update_many."""
    collection.delete_many({})
    collection.insert_many([_fixture(fixture_id, [_event(minute) for minute in range(events)]) for fixture_id in range(1, DOCUMENTS + 1)])
    client = collection.database.client

    operations = [
        UpdateOne({"fixture_id": fixture_id, "revision": 1}, {"$set": {"status.elapsed": 31, "revision": 2}})
        for fixture_id in range(1, DOCUMENTS + 1)
    ]
    started = time.perf_counter()
    with client.start_session() as session, session.start_transaction():
        collection.bulk_write(operations, ordered=False, session=session)
    bulk_s = time.perf_counter() - started

    started = time.perf_counter()
    with client.start_session() as session, session.start_transaction():
        collection.update_many({"fixture_id": {"$in": list(range(1, DOCUMENTS + 1))}}, {"$set": {"status.elapsed": 32}}, session=session)
    many_s = time.perf_counter() - started
    return bulk_s, many_s


def measure_in_matches(collection: Collection) -> list[tuple[int, float, float]]:
    """Return (k, seconds of an $in match on k ids, seconds of a match_date match) for growing k."""
    collection.delete_many({})
    collection.insert_many([_fixture(fixture_id, []) for fixture_id in range(1, 1184)])
    rows = []
    for count in (100, 300, 600, 1183):
        started = time.perf_counter()
        list(collection.aggregate([{"$match": {"fixture_id": {"$in": list(range(1, count + 1))}}}, {"$project": {"_id": 0, "fixture_id": 1}}]))
        in_s = time.perf_counter() - started
        started = time.perf_counter()
        list(collection.aggregate([{"$match": {"match_date": "2025-05-17"}}, {"$project": {"_id": 0, "fixture_id": 1}}]))
        rows.append((count, in_s, time.perf_counter() - started))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store_costs", description=__doc__.splitlines()[0])
    parser.add_argument("--mongo-uri", help="MongoDB replica set to measure instead of starting SecantusDB; its database bench_store_costs is dropped")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        uri = args.mongo_uri or start_secantus(stack, "bench-store-costs-")
        mongo = connect(uri)
        stack.callback(mongo.close)
        mongo.drop_database(DATABASE)
        database = mongo[DATABASE]
        ensure_indexes(database)

        for events in (12, 0):
            bulk_s, many_s = measure_updates(database["live_fixtures"], events)
            print(
                f"{DOCUMENTS} documents with {events} events: {DOCUMENTS} UpdateOne in one bulk_write {bulk_s:.3f} s "
                f"({bulk_s / DOCUMENTS * 1000:.2f} ms each), one update_many {many_s:.3f} s"
            )
        for count, in_s, date_s in measure_in_matches(database["staged_fixtures"]):
            print(f"$in of {count} ids over 1183 documents: {in_s:.3f} s; match_date equality over the same documents: {date_s:.3f} s")
        mongo.drop_database(DATABASE)


if __name__ == "__main__":
    main()
