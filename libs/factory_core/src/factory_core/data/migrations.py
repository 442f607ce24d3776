"""Migrations: a service's ordered steps (modules ``NNNN_what.py`` with ``up(db)`` and maybe
``down(db)``), each applied once per database under a lease (docs/migrations.md)."""

from __future__ import annotations

import contextvars
import importlib
import logging
import pkgutil
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import click
import pymongo
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from pymongo import IndexModel, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from factory_core.data.leases import Held, Leases
from factory_core.data.mongo import Document, mongo
from factory_core.web.errors import Problem
from factory_core.web.health import add_readiness_check

logger = logging.getLogger(__name__)

EXTENSION_KEY = "factory_core.migrations"
#: One document per applied step: ``_id`` (its name), ``applied_at``, ``seconds``.
APPLIED = "migrations"
#: The runners' lease (one document).
LEASE = "migrations_lease"
_STEP_NAME = re.compile(r"\d{4}_[a-z0-9_]+")
_held: contextvars.ContextVar[Held | None] = contextvars.ContextVar("migration", default=None)

Change = Callable[[Database[Document]], None]


class MigrationError(click.ClickException):
    """A migration cannot run as asked (another runner kept the lease, no ``down``)."""


@dataclass(frozen=True)
class Step:
    name: str
    up: Change
    down: Change | None
    about: str


@dataclass
class _State:
    package: str
    steps: list[Step]
    current: bool = False  # this process saw the database at the code's version
    commanded: bool = False  # ``flask migrate`` runs: it does what it is told, nothing at start


def load_steps(package: str) -> list[Step]:
    """The steps of ``package`` (modules named ``NNNN_what``), in order."""
    found = importlib.import_module(package)
    steps = []
    for info in sorted(pkgutil.iter_modules(found.__path__), key=lambda info: info.name):
        if not _STEP_NAME.fullmatch(info.name):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        about = (module.__doc__ or "").strip().splitlines()
        steps.append(Step(info.name, module.up, getattr(module, "down", None), (about or [""])[0]))
    return steps


def init_migrations(app: Flask, package: str) -> None:
    """Give ``app`` the steps of ``package``: ``flask migrate``, a readiness check refusing while
    the database is behind, and (MIGRATE_AT_START) the pending steps applied at first use."""
    state = _State(package, load_steps(package))
    app.extensions[EXTENSION_KEY] = state
    app.cli.add_command(_commands)
    add_readiness_check(app, "migrations", lambda: _readiness(app, state))
    at_start = app.config["MIGRATE_AT_START"]
    if at_start if at_start is not None else app.config["ENV"] != "production":
        mongo.before_first_use(app, lambda: state.commanded or migrate_up(app))


def _state(app: Flask) -> _State:
    return cast(_State, app.extensions[EXTENSION_KEY])


def applied(app: Flask) -> dict[str, Document]:
    """The steps recorded as applied, by name."""
    return {found["_id"]: found for found in _applied(app).find()}


def _applied(app: Flask) -> Collection[Document]:
    return mongo.database(app)[APPLIED]


def pending(app: Flask) -> list[Step]:
    """The steps of the code that the database has not had, in order."""
    done = applied(app)
    return [step for step in _state(app).steps if step.name not in done]


def _readiness(app: Flask, state: _State) -> str:
    if not state.current:
        behind = pending(app)
        if behind:
            names = ", ".join(step.name for step in behind)
            raise Problem(
                503,
                f"The database is behind this code ({names} not applied): "
                f"run `flask --app {app.import_name} migrate up`.",
                code="migrations_pending",
                retry_after=5,
            )
        state.current = True  # a database does not go back on its own (``down`` is a person's)
    return state.steps[-1].name if state.steps else "none"


@contextmanager
def _lease(app: Flask) -> Iterator[Held]:
    """Hold the runners' lease, waiting for another runner up to MIGRATION_WAIT_SECONDS."""
    config = app.config
    leases = Leases(LEASE, timedelta(seconds=float(config["MIGRATION_LEASE_SECONDS"])))
    deadline = time.monotonic() + float(config["MIGRATION_WAIT_SECONDS"])
    with app.app_context():
        while (held := leases.take({"_id": "lease"}, upsert=True)) is None:
            if time.monotonic() >= deadline:
                raise MigrationError("another runner holds the migrations' lease; try again")
            time.sleep(0.5)
        token = _held.set(held)
        try:
            yield held
        finally:
            _held.reset(token)
            held.release()


def renew() -> None:
    """Extend the runner's lease (``in_batches`` does it between batches); raise if another
    runner took it over meanwhile (this one was too slow: MIGRATION_LEASE_SECONDS)."""
    held = _held.get()
    if held is not None and not held.renew():
        raise MigrationError("the migrations' lease ran out and another runner took it over")


def migrate_up(app: Flask, *, echo: Callable[[str], None] = logger.info) -> list[str]:
    """Apply the pending steps in order, under the lease; the names applied."""
    if not pending(app):
        return []
    done = []
    with _lease(app):
        for step in pending(app):  # again: another runner may have applied some meanwhile
            echo(f"migrating {app.import_name}: {step.name} ({step.about})")
            started = time.monotonic()
            with pymongo.timeout(float(app.config["MIGRATION_STEP_TIMEOUT_SECONDS"])):
                step.up(mongo.database(app))
            renew()
            seconds = round(time.monotonic() - started, 3)
            _applied(app).insert_one(
                {"_id": step.name, "applied_at": datetime.now(UTC), "seconds": seconds}
            )
            echo(f"migrated {app.import_name}: {step.name} in {seconds} s")
            done.append(step.name)
    return done


def migrate_down(app: Flask, *, echo: Callable[[str], None] = logger.info) -> str | None:
    """Undo the last applied step, under the lease; its name (None: nothing applied)."""
    with _lease(app):
        done = applied(app)
        last = next((step for step in reversed(_state(app).steps) if step.name in done), None)
        if last is None:
            return None
        if last.down is None:
            raise MigrationError(f"{last.name} has no down(): it cannot be undone")
        echo(f"undoing {app.import_name}: {last.name}")
        with pymongo.timeout(float(app.config["MIGRATION_STEP_TIMEOUT_SECONDS"])):
            last.down(mongo.database(app))
        renew()
        _applied(app).delete_one({"_id": last.name})
        _state(app).current = False
        return last.name


def in_batches(
    collection: Collection[Document],
    query: Mapping[str, Any],
    change: Callable[[Document], Mapping[str, Any] | None],
    *,
    size: int = 500,
) -> int:
    """Apply ``change(document)`` (an update; None leaves it) to the documents matching
    ``query``, ``size`` at a time in ``_id`` order, each only if unchanged meanwhile; the count."""
    changed = seen = 0
    last: Any = None
    while True:
        bounded = dict(query) if last is None else {"$and": [query, {"_id": {"$gt": last}}]}
        batch = list(collection.find(bounded, sort=[("_id", 1)], limit=size))
        if not batch:
            return changed
        updates = []
        for document in batch:
            update = change(document)
            if update:
                fields = {name for op in update.values() for name in op}
                unchanged = {name: document.get(name) for name in fields}
                updates.append(
                    UpdateOne({"$and": [query, {"_id": document["_id"]}, unchanged]}, update)
                )
        if updates:
            changed += collection.bulk_write(updates, ordered=False).modified_count
        seen += len(batch)
        last = batch[-1]["_id"]
        renew()
        logger.info("%s: %d documents read, %d changed", collection.name, seen, changed)


def create_indexes(database: Database[Document], indexes: Mapping[str, list[IndexModel]]) -> None:
    """Create each collection's indexes (those that exist already, alike, are left as they are)."""
    for name, models in indexes.items():
        database[name].create_indexes(models)


def drop_indexes(database: Database[Document], indexes: Mapping[str, list[IndexModel]]) -> None:
    """Drop each collection's indexes by name (``create_indexes``' undoing)."""
    for name, models in indexes.items():
        for model in models:
            database[name].drop_index(model.document["name"])


def expiring(field: str = "expires_at") -> IndexModel:
    """A TTL index: MongoDB deletes a document once the datetime in ``field`` has passed (within
    about a minute: readers that must not see an expired document filter on it too)."""
    return IndexModel([(field, 1)], expireAfterSeconds=0, name=f"{field}_ttl")


@click.group("migrate", cls=AppGroup)
@with_appcontext
def _commands() -> None:
    """Versioned database migrations (docs/migrations.md)."""
    _state(current_app).commanded = True


@_commands.command("status")
def _status() -> None:
    """List the steps, applied or pending."""
    done = applied(current_app)
    for step in _state(current_app).steps:
        when = done[step.name]["applied_at"].isoformat() if step.name in done else "pending"
        click.echo(f"{step.name}  {when}  {step.about}")


@_commands.command("up")
def _up() -> None:
    """Apply every pending step (one runner at a time)."""
    names = migrate_up(current_app, echo=click.echo)
    click.echo(f"{len(names)} applied; the database is at the code's version.")


@_commands.command("down")
def _down() -> None:
    """Undo the last applied step, if it defines down()."""
    name = migrate_down(current_app, echo=click.echo)
    click.echo(f"undid {name}" if name else "nothing to undo")


@_commands.command("new")
@click.argument("name")
def _new(name: str) -> None:
    """Write the next step, NNNN_NAME.py, to fill in."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    state = _state(current_app)
    number = int(state.steps[-1].name[:4]) + 1 if state.steps else 1
    folder = Path(next(iter(importlib.import_module(state.package).__path__)))
    path = folder / f"{number:04d}_{slug}.py"
    path.write_text(_TEMPLATE.format(name=name))
    click.echo(f"wrote {path}")


_TEMPLATE = '''"""{name}."""

from pymongo.database import Database

from factory_core import Document


def up(db: Database[Document]) -> None:
    """Apply the change; idempotent (a crash mid-way runs it again): factory_core.in_batches."""
    raise NotImplementedError("write this step")


def down(db: Database[Document]) -> None:
    """Undo it (delete this function if it cannot be undone)."""
    raise NotImplementedError("write this step")
'''
