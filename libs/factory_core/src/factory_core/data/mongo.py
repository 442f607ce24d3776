"""The MongoDB extension: one client per app per process, short timeouts."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import marshmallow as ma
import pymongo
from bson import ObjectId
from flask import Flask, current_app
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.write_concern import WriteConcern

from factory_core.runtime.config import write_concern

EXTENSION_KEY = "factory_core.mongo"

#: A document as pymongo gives and takes it.
Document = dict[str, Any]
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
T = TypeVar("T")
#: Set inside mongo.transaction (see Mongo.collection).
_IN_TRANSACTION: ContextVar[bool] = ContextVar("in_transaction", default=False)
#: What to run once the transaction in progress has committed (mongo.after_commit).
_AFTER_COMMIT: ContextVar[list[Callable[[], None]]] = ContextVar("after_commit")


def parse_object_id(value: Any) -> ObjectId | None:
    """The ObjectId that ``value`` (a URL's id, a token's ``sub``) spells; None for anything
    else (then: 404, or no account)."""
    return ObjectId(value) if isinstance(value, str) and _OBJECT_ID.fullmatch(value) else None


def milliseconds(moment: datetime) -> datetime:
    """``moment`` in UTC to the millisecond: what MongoDB keeps, so what is stored is what a
    response shows."""
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


class Instant(ma.fields.AwareDateTime):
    """An RFC 3339 date-time with an offset (or ``default_timezone``), loaded as the UTC
    millisecond MongoDB keeps; one that leaves the calendar once in UTC (past year 9999, say)
    is invalid, not an error further on."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return milliseconds(moment)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


def utc_now() -> datetime:
    """Now, in UTC milliseconds."""
    return milliseconds(datetime.now(UTC))


def _fresh_attempt(work: Callable[[], T]) -> T:
    """``work`` as one attempt of a transaction: what an aborted attempt asked to run after
    commit is forgotten (with_transaction may retry the whole)."""
    _AFTER_COMMIT.get().clear()
    return work()


class DocumentSchema(ma.Schema):
    """A schema that dumps documents as pymongo returns them (dicts), reading plain keys directly
    (dotted names still go through marshmallow's lookup)."""

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if "." in attr or not isinstance(obj, dict):
            return super().get_attribute(obj, attr, default)
        return obj.get(attr, default)


@dataclass
class _MongoState:
    """Per-app state; the client is rebuilt in a process that did not create it (after fork)."""

    uri: str
    db_name: str
    write_concern: WriteConcern
    options: dict[str, Any]
    #: called once per process before the database is first used (migrations)
    before_first_use: list[Callable[[], object]] = field(default_factory=list)
    client: MongoClient[Document] | None = None
    database: Database[Document] | None = None
    #: the collections handed out since the client was made (pymongo's are thread-safe)
    collections: dict[str, Collection[Document]] = field(default_factory=dict)
    pid: int = 0
    prepared: bool = False
    preparing: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)


class _RequestBudget:
    """WSGI middleware: every request's database work runs under one ``pymongo.timeout``
    (MONGO_TIMEOUT_MS), so retries share the budget instead of each getting their own."""

    def __init__(self, wsgi_app: Any, seconds: float) -> None:
        self.wsgi_app = wsgi_app
        self.seconds = seconds

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with pymongo.timeout(self.seconds):
            return self.wsgi_app(environ, start_response)


class Mongo:
    """Flask extension giving each app a lazily created, fork-safe pymongo client."""

    def init_app(self, app: Flask) -> None:
        config = app.config
        concern = config["MONGO_WRITE_CONCERN"]
        app.wsgi_app = _RequestBudget(  # type: ignore[method-assign]
            app.wsgi_app, float(config["MONGO_TIMEOUT_MS"]) / 1000
        )
        app.extensions[EXTENSION_KEY] = _MongoState(
            uri=config["MONGO_URI"],
            db_name=config["MONGO_DB_NAME"],
            write_concern=WriteConcern(w=write_concern(concern)),
            options={
                "serverSelectionTimeoutMS": config["MONGO_SERVER_SELECTION_TIMEOUT_MS"],
                "connectTimeoutMS": config["MONGO_CONNECT_TIMEOUT_MS"],
                "timeoutMS": config["MONGO_TIMEOUT_MS"],
                "maxPoolSize": config["MONGO_MAX_POOL_SIZE"],
                "tz_aware": True,
                "uuidRepresentation": "standard",
                "appname": config["SERVICE_NAME"],
            },
        )

    @staticmethod
    def _state(app: Flask | None = None) -> _MongoState:
        return cast(_MongoState, (app or current_app).extensions[EXTENSION_KEY])

    def before_first_use(self, app: Flask, prepare: Callable[[], object]) -> None:
        """Call ``prepare`` in each process before its first use of the database (it may use
        the database itself); a failure leaves it to the next use."""
        self._state(app).before_first_use.append(prepare)

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
                    state.collections = {}
                    state.pid = pid
                    state.prepared = False
        return state.client

    @property
    def db(self) -> Database[Document]:
        """The current app's database (see :meth:`database`)."""
        return self.database()

    def database(self, app: Flask | None = None) -> Database[Document]:
        """The app's database, prepared (``before_first_use``) on the first use per process."""
        state = self._state(app)
        self.client(app)  # (re)creates the client and its database after a fork
        database = state.database
        assert database is not None
        if not state.prepared:
            with state.lock:
                if not state.prepared and not state.preparing:
                    state.preparing = True
                    try:
                        for prepare in state.before_first_use:
                            prepare()
                        state.prepared = True
                    finally:
                        state.preparing = False
        return database

    def collection(self, name: str) -> Collection[Document]:
        """``db[name]``, made once per process: requests use it without building a new one.

        Inside :meth:`transaction`, the same collection without a write concern of its own:
        the transaction's commit carries it, and MongoDB refuses one on a statement in a
        transaction (pymongo leaves it out only for a session passed explicitly, not for one
        bound to the context).
        """
        state = self._state()
        found = state.collections.get(name)
        if found is None or state.pid != os.getpid():
            found = self.database()[name]  # after a fork: a new client, no collections yet
            state.collections[name] = found
        if _IN_TRANSACTION.get():
            return found.with_options(write_concern=WriteConcern())
        return found

    def transaction(self, work: Callable[[], T]) -> T:
        """``work()`` in one transaction: its writes, through any repository, commit together
        or not at all (MongoDB transactions: a replica set or a sharded cluster).

        pymongo binds the session to the context (``ClientSession.bind``), so repositories
        take no session argument, and retries the whole of ``work`` on a transient error,
        within the request's budget. A transaction inside ``work`` joins this one. Keep
        ``work`` short and free of slow computation (hash before) and of other clients (the
        rate limiter's).
        """
        if _IN_TRANSACTION.get():
            return work()
        state = self._state()
        self.database()  # first use prepares the database (indexes), never inside a transaction
        with self.client().start_session() as session, session.bind(end_session=False):
            marked = _IN_TRANSACTION.set(True)
            pending = _AFTER_COMMIT.set([])
            try:
                result = session.with_transaction(
                    lambda _session: _fresh_attempt(work), write_concern=state.write_concern
                )
                committed = _AFTER_COMMIT.get()
            finally:
                _IN_TRANSACTION.reset(marked)
                _AFTER_COMMIT.reset(pending)
        for action in committed:
            action()
        return result

    @staticmethod
    def after_commit(action: Callable[[], None]) -> None:
        """Run ``action`` once the transaction in progress has committed (never if it does
        not), or now outside one: a signal to another thread (wake a sender) must not come
        before what it is to find is visible."""
        if _IN_TRANSACTION.get():
            _AFTER_COMMIT.get().append(action)
        else:
            action()

    def ping(self, *, timeout: float | None = None) -> None:
        """Raise a pymongo error unless the server answers (within ``timeout`` seconds, when
        given: server selection and the command together, pymongo's client-side timeout)."""
        client = self.client()
        if timeout is None:
            client.admin.command("ping")
            return
        with pymongo.timeout(timeout):
            client.admin.command("ping")

    def close(self, app: Flask | None = None) -> None:
        """Close this process's client (tests and shutdown)."""
        state = self._state(app)
        if state.client is not None and state.pid == os.getpid():
            state.client.close()
        state.client = None
        state.database = None
        state.collections = {}


mongo = Mongo()
