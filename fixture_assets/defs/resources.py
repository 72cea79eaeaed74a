"""Resources shared by every concern: the MongoDB connection."""

from __future__ import annotations

import threading

import pymongo
from dagster import ConfigurableResource
from pydantic import Field
from pymongo.database import Database
from pymongo.errors import ConfigurationError

from fixture_assets.store.database import DEFAULT_DATABASE, connect, ensure_indexes, mask_uri, validate_mongo_uri

_clients: dict[str, pymongo.MongoClient] = {}
_indexed: set[tuple[str, str]] = set()
_clients_lock = threading.Lock()


class MongoResource(ConfigurableResource):
    """The MongoDB that stores fixtures, goal records and notifications.

    Set ``uri`` from ``EnvVar("MONGO_URI")``: it may contain a password, and
    Dagster then keeps the value out of run config and the UI.
    """

    uri: str = Field(description="MongoDB connection string, e.g. mongodb://127.0.0.1:27017/.")
    database: str = Field(default=DEFAULT_DATABASE, description="Database name.")

    def get_client(self) -> pymongo.MongoClient:
        # One client per process and URI: sensors build the resource every
        # tick, and a new client each minute would leak connection pools.
        with _clients_lock:
            client = _clients.get(self.uri)
            if client is None:
                client = self._connect()
                _clients[self.uri] = client
            if (self.uri, self.database) not in _indexed:
                ensure_indexes(client[self.database])
                _indexed.add((self.uri, self.database))
            return client

    def _connect(self) -> pymongo.MongoClient:
        """Open the client, raising ValueError that names MONGO_URI when the URI is invalid."""
        validate_mongo_uri(self.uri)
        try:
            return connect(self.uri)
        except (ValueError, ConfigurationError) as error:
            # pymongo parses the URI here. A server that is down fails later, on first use.
            raise ValueError(f"MONGO_URI {mask_uri(self.uri)} is invalid: {error}") from None

    def get_database(self) -> Database:
        return self.get_client()[self.database]

    @property
    def display_uri(self) -> str:
        return mask_uri(self.uri)
