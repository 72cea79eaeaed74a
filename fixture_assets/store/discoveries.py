"""The ``discoveries`` collection: which match dates were discovered, and when.

The poll sensor reads it to decide whether a date still needs its first
discovery, so a new Dagster instance over the same MongoDB does not run
discoveries again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pymongo.database import Database

from fixture_assets.store.database import DISCOVERIES


def record_discovery(database: Database, match_date: str, now: datetime, fixtures: int) -> None:
    database[DISCOVERIES].update_one(
        {"match_date": match_date},
        {"$set": {"last_discovered_at": now, "fixtures": fixtures}, "$setOnInsert": {"first_discovered_at": now}},
        upsert=True,
    )


def discovered_dates(database: Database, match_dates: Iterable[str]) -> set[str]:
    dates = sorted(set(match_dates))
    found = database[DISCOVERIES].find({"match_date": {"$in": dates}}, {"_id": 0, "match_date": 1})
    return {document["match_date"] for document in found}


def forget_discoveries(database: Database, match_dates: Iterable[str]) -> int:
    """Delete the discovery records of ``match_dates``, so that the minute sensor discovers them again."""
    return database[DISCOVERIES].delete_many({"match_date": {"$in": sorted(set(match_dates))}}).deleted_count
