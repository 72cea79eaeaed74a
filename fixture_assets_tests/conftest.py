"""Shared test fixtures: a real MongoDB-wire server and the shared samples folder.

Tests run against SecantusDB started as its own process on 127.0.0.1, or
against the MongoDB in ``MONGO_URI`` when that is set. Each test gets its own
database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest
from pymongo.database import Database
from pymongo.monitoring import CommandListener, CommandStartedEvent

from fixture_assets.store.database import connect, ensure_indexes
from fixture_assets.store.embedded_server import EmbeddedMongo

REPO_ROOT = Path(__file__).resolve().parent.parent
# The recorded samples and scenarios live beside the checkout and are read
# in place, never copied into the repository.
SHARED_DIR = Path(os.environ.get("FIXTURE_ASSETS_SHARED_DIR", REPO_ROOT.parent / "shared"))
SAMPLES_DIR = SHARED_DIR / "api-football-samples"
SCENARIOS_DIR = SHARED_DIR / "scenarios"


def scenario_files() -> list[Path]:
    return sorted(SCENARIOS_DIR.glob("*.json"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SAMPLES_DIR.is_dir() or not SCENARIOS_DIR.is_dir():
        pytest.fail(
            f"the shared samples were not found at {SHARED_DIR}; check out the repository next to "
            "the shared folder or set FIXTURE_ASSETS_SHARED_DIR"
        )
    return SHARED_DIR


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedMongo | None]:
    """The session's SecantusDB, or None when MONGO_URI points at another MongoDB."""
    if os.environ.get("MONGO_URI"):
        yield None
        return
    storage = tmp_path_factory.mktemp("secantus")
    server = EmbeddedMongo(storage, test_commands=True, log_path=storage.parent / "secantus.log")
    with server:
        yield server


@pytest.fixture(scope="session")
def mongo_uri(mongo_server: EmbeddedMongo | None) -> str:
    return os.environ.get("MONGO_URI") or mongo_server.uri  # type: ignore[union-attr]


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[pymongo.MongoClient]:
    client = connect(mongo_uri)
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client: pymongo.MongoClient) -> Iterator[Database]:
    """A fresh database with the product's indexes, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    database = mongo_client[name]
    ensure_indexes(database)
    yield database
    mongo_client.drop_database(name)


class CommandCounter(CommandListener):
    """Count the MongoDB commands a client sends, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: object) -> None:
        pass

    def failed(self, event: object) -> None:
        pass

    def reset(self) -> None:
        self.names.clear()

    def data_commands(self) -> list[str]:
        """The commands that read or write data, without driver handshakes."""
        return [name for name in self.names if name not in _DRIVER_COMMANDS]


_DRIVER_COMMANDS = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue"})


# Replay server and API client fixtures, available to every test by name.
from fixture_assets_tests.replay_fixtures import (  # noqa: E402, F401
    demo_day,
    demo_server,
    make_api_client,
    start_replay_server,
)
