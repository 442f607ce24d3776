"""The MongoDB extension: one client per app per process, short timeouts, declared indexes."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from pymongo import IndexModel, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure
from pymongo.write_concern import WriteConcern

logger = logging.getLogger(__name__)

EXTENSION_KEY = "factory_core.mongo"

# Server error codes meaning "this server cannot build that index option" (FerretDB 1.x has no
# TTL indexes); the field then gets a plain index and purge_expired() does the expiry instead.
_UNSUPPORTED_INDEX_CODES = {238, 67, 197}

Document = dict[str, Any]


@dataclass
class _MongoState:
    """Per-app state; the client is rebuilt in a process that did not create it (after fork)."""

    uri: str
    db_name: str
    write_concern: WriteConcern
    options: dict[str, Any]
    indexes: dict[str, list[IndexModel]] = field(default_factory=dict)
    expiring: dict[str, str] = field(default_factory=dict)
    client: MongoClient[Document] | None = None
    database: Database[Document] | None = None
    pid: int = 0
    indexes_applied: bool = False
    last_purge: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Mongo:
    """Flask extension giving each app a lazily created, fork-safe pymongo client."""

    def init_app(self, app: Flask) -> None:
        config = app.config
        app.extensions[EXTENSION_KEY] = _MongoState(
            uri=config["MONGO_URI"],
            db_name=config["MONGO_DB_NAME"],
            write_concern=WriteConcern(w=_write_concern(config["MONGO_WRITE_CONCERN"])),
            options={
                "serverSelectionTimeoutMS": config["MONGO_SERVER_SELECTION_TIMEOUT_MS"],
                "connectTimeoutMS": config["MONGO_CONNECT_TIMEOUT_MS"],
                "socketTimeoutMS": config["MONGO_SOCKET_TIMEOUT_MS"],
                "maxPoolSize": config["MONGO_MAX_POOL_SIZE"],
                "tz_aware": True,
                "uuidRepresentation": "standard",
                "appname": config["SERVICE_NAME"],
            },
        )

    @staticmethod
    def _state(app: Flask | None = None) -> _MongoState:
        state: _MongoState = (app or current_app).extensions[EXTENSION_KEY]
        return state

    def declare_indexes(self, app: Flask, collection: str, indexes: Iterable[IndexModel]) -> None:
        """Register indexes for ``collection``; they are created on first use in each process."""
        self._state(app).indexes.setdefault(collection, []).extend(indexes)

    def declare_expiring(self, app: Flask, collection: str, field_name: str = "expires_at") -> None:
        """Documents in ``collection`` expire at the datetime in ``field_name``.

        On MongoDB a TTL index removes them; on servers without TTL indexes (FerretDB 1.x)
        :meth:`purge_expired` does. Readers must still filter on the field, since neither
        removes a document the instant it expires.
        """
        state = self._state(app)
        state.expiring[collection] = field_name
        state.indexes.setdefault(collection, []).append(
            IndexModel([(field_name, 1)], expireAfterSeconds=0, name=f"{field_name}_ttl")
        )

    def client(self, app: Flask | None = None) -> MongoClient[Document]:
        """The process's client for this app, created on first use after any fork."""
        state = self._state(app)
        pid = os.getpid()
        if state.client is None or state.pid != pid:
            with state.lock:
                if state.client is None or state.pid != pid:
                    # A client inherited through fork must not be used (or closed) by the child.
                    state.client = MongoClient(state.uri, connect=False, **state.options)
                    state.database = state.client.get_database(
                        state.db_name, write_concern=state.write_concern
                    )
                    state.pid = pid
                    state.indexes_applied = False
        return state.client

    @property
    def db(self) -> Database[Document]:
        """The app's database; declared indexes are ensured on the first access per process."""
        state = self._state()
        self.client()  # (re)creates the client and its database after a fork
        database = state.database
        assert database is not None
        if not state.indexes_applied:
            self.ensure_indexes(database, state)
        return database

    def collection(self, name: str) -> Collection[Document]:
        """Shorthand for ``db[name]``."""
        return self.db[name]

    def ensure_indexes(self, database: Database[Document], state: _MongoState) -> None:
        """Create every declared index (idempotent); TTL falls back to a plain index."""
        with state.lock:
            if state.indexes_applied:
                return
            for collection, models in state.indexes.items():
                for model in models:
                    _create_index(database[collection], model)
            state.indexes_applied = True

    def ping(self) -> None:
        """Raise a pymongo error unless the server answers within the selection timeout."""
        self.client().admin.command("ping")

    def purge_expired(self, *, every_seconds: float = 60.0) -> int:
        """Delete expired documents of every expiring collection, at most once per interval."""
        state = self._state()
        now = time.monotonic()
        if now - state.last_purge < every_seconds:
            return 0
        state.last_purge = now
        database = self.db
        cutoff = datetime.now(UTC)
        removed = 0
        for collection, field_name in state.expiring.items():
            removed += database[collection].delete_many({field_name: {"$lt": cutoff}}).deleted_count
        return removed

    def close(self, app: Flask | None = None) -> None:
        """Close this process's client (tests and shutdown)."""
        state = self._state(app)
        if state.client is not None and state.pid == os.getpid():
            state.client.close()
        state.client = None
        state.database = None


def _write_concern(value: str | int) -> str | int:
    return int(value) if str(value).isdigit() else value


def _create_index(collection: Collection[Document], model: IndexModel) -> None:
    try:
        collection.create_indexes([model])
    except OperationFailure as error:
        document = dict(model.document)
        if error.code not in _UNSUPPORTED_INDEX_CODES or "expireAfterSeconds" not in document:
            raise
        logger.info(
            "server has no TTL indexes; %s.%s expires through purge_expired()",
            collection.name,
            document["name"],
        )
        collection.create_indexes(
            [IndexModel(list(document["key"].items()), name=document["name"])]
        )


mongo = Mongo()
