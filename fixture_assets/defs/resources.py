"""Resources shared by every concern: the MongoDB connection."""

from __future__ import annotations

import threading

import pymongo
from dagster import ConfigurableResource
from pydantic import Field
from pymongo.database import Database

from fixture_assets.store.database import connect, ensure_indexes, mask_uri

_clients: dict[str, pymongo.MongoClient] = {}
_indexed: set[tuple[str, str]] = set()
_clients_lock = threading.Lock()


class MongoResource(ConfigurableResource):
    """The MongoDB that stores fixtures, goal records and notifications.

    Set ``uri`` from ``EnvVar("MONGO_URI")``: it may contain a password, and
    Dagster then keeps the value out of run config and the UI.
    """

    uri: str = Field(description="MongoDB connection string, e.g. mongodb://127.0.0.1:27017/.")
    database: str = Field(default="fixture_assets", description="Database name.")

    def get_client(self) -> pymongo.MongoClient:
        # One client per process and URI: sensors build the resource every
        # tick, and a new client each minute would leak connection pools.
        with _clients_lock:
            client = _clients.get(self.uri)
            if client is None:
                client = connect(self.uri)
                _clients[self.uri] = client
            if (self.uri, self.database) not in _indexed:
                ensure_indexes(client[self.database])
                _indexed.add((self.uri, self.database))
            return client

    def get_database(self) -> Database:
        return self.get_client()[self.database]

    @property
    def display_uri(self) -> str:
        return mask_uri(self.uri)
