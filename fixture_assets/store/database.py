"""MongoDB connection, collection names and indexes."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import pymongo
from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.monitoring import CommandListener

from fixture_assets.core.status import StatusClass

logger = logging.getLogger(__name__)

FIXTURE_COLLECTIONS: tuple[str, ...] = tuple(status_class.value for status_class in StatusClass)
DEFAULT_DATABASE = "fixture_assets"
NOTIFICATIONS = "goal_notifications"
DISCOVERIES = "discoveries"

_FIXTURE_INDEXES = [
    IndexModel([("fixture_id", ASCENDING)], unique=True, name="fixture_id_unique"),
    IndexModel([("match_date", ASCENDING)], name="match_date"),
]
_STAGED_INDEXES = [
    IndexModel([("kickoff", ASCENDING)], name="kickoff"),
    IndexModel([("last_checked", ASCENDING)], name="last_checked"),
]
_COMPLETED_INDEXES = [
    IndexModel([("goals_settled", ASCENDING), ("completed_at", ASCENDING)], name="goals_settled_completed_at"),
]
_NOTIFICATION_INDEXES = [
    IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
    IndexModel([("state", ASCENDING), ("created_at", ASCENDING)], name="state_created_at"),
    IndexModel([("goal_key", ASCENDING), ("kind", ASCENDING)], name="goal_key_kind"),
    IndexModel([("fixture_id", ASCENDING)], name="fixture_id"),
]

_URI_PASSWORD = re.compile(r"^(?P<scheme>mongodb(?:\+srv)?://)(?P<user>[^:@/]+):(?P<password>[^@/]*)@")


def mask_uri(uri: str) -> str:
    """Return ``uri`` with its password replaced by ``***``, for logs and metadata."""
    return _URI_PASSWORD.sub(lambda match: f"{match['scheme']}{match['user']}:***@", uri)


MONGO_URI_SCHEMES = ("mongodb://", "mongodb+srv://")


def validate_mongo_uri(uri: str, variable: str = "MONGO_URI") -> str:
    """Return ``uri`` if it is a MongoDB connection string, or raise ValueError naming ``variable``.

    pymongo reads a value without a scheme, such as ``garbage``, as a host
    name and only fails after its server selection timeout, so the scheme is
    checked first. The message shows the value without its user and password.
    """
    if uri.startswith(MONGO_URI_SCHEMES):
        return uri
    raise ValueError(
        f"{variable} is {_without_userinfo(uri)!r}, which is not a MongoDB connection string; set it to a URI "
        "that starts with mongodb:// or mongodb+srv://, such as mongodb://127.0.0.1:27017/"
    )


def _without_userinfo(uri: str) -> str:
    # Without a valid scheme mask_uri cannot find the password, so everything
    # up to the last "@" is hidden.
    _, at, rest = uri.rpartition("@")
    return f"***@{rest}" if at else uri


def connect(
    uri: str,
    *,
    app_name: str = "fixture_assets",
    timeout_ms: int = 10_000,
    event_listeners: Sequence[CommandListener] = (),
) -> pymongo.MongoClient:
    """Open a client that returns timezone-aware UTC datetimes."""
    return pymongo.MongoClient(
        uri,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        event_listeners=list(event_listeners),
    )


def ensure_indexes(database: Database) -> None:
    """Create the indexes every upsert and query filter relies on. Idempotent."""
    for name in FIXTURE_COLLECTIONS:
        indexes = list(_FIXTURE_INDEXES)
        if name == StatusClass.STAGED.value:
            indexes += _STAGED_INDEXES
        if name == StatusClass.COMPLETED.value:
            indexes += _COMPLETED_INDEXES
        database[name].create_indexes(indexes)
    database[NOTIFICATIONS].create_indexes(_NOTIFICATION_INDEXES)
    database[DISCOVERIES].create_index([("match_date", ASCENDING)], unique=True, name="match_date_unique")
