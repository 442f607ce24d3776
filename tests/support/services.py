"""auth and todo as real gunicorn processes on loopback, configured as operators would.

Shared by the contract, end-to-end, browser and resilience tests and by the benchmarks.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from tests.support.devdb import free_port
from tests.support.gunicorn import GunicornServer
from tests.support.keys import write_private_key

#: The shared revocation-feed secret both services are configured with in these tests.
FEED_TOKEN = "contract-" + "f" * 40


def service_env(prefix: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """<PREFIX>_<NAME> variables; non-strings JSON-encoded (the settings loader parses JSON)."""
    return {
        f"{prefix}_{name}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.items()
    }


def production_settings(directory: Path) -> dict[str, Any]:
    """What production requires of both services (real secrets; nothing else relaxed)."""
    return {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "FEED_TOKEN": FEED_TOKEN,
        "LOG_LEVEL": "WARNING",
        "INSTANCE_PATH": str(directory),
        # A deploy runs `flask migrate up` before the workers start (deploy/); here the first
        # worker does (test_migrations.py runs the deploy's way).
        "MIGRATE_AT_START": True,
    }


def testing_settings(directory: Path) -> dict[str, Any]:
    """Settings of a service run with ENV=testing (dev keys, placeholders accepted)."""
    return {
        "ENV": "testing",
        "INSTANCE_PATH": str(directory),
        "FEED_TOKEN": FEED_TOKEN,
        "LOG_LEVEL": "WARNING",
    }


#: Where auth_server() writes the signing key in its directory (the baseline reads it too).
SIGNING_KEY_FILE = "jwt-signing-key.pem"


def auth_server(
    *,
    mongo_uri: str,
    db_name: str,
    directory: Path,
    production: bool = True,
    workers: int = 2,
    port: int | None = None,
    environment: Mapping[str, str] | None = None,
    **settings: Any,
) -> GunicornServer:
    """auth_service under gunicorn (not started), on ``port`` or a free one; production
    settings unless ``production`` is False. ``settings`` override any of them (as
    AUTH_<NAME>); ``environment`` adds raw variables (gunicorn's own, for one)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    base: dict[str, Any] = (
        {
            **production_settings(directory),
            "JWT_PRIVATE_KEY_FILE": str(write_private_key(directory / SIGNING_KEY_FILE)),
            # Production needs a mail server; none listens here unless a test gives one.
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": free_port(),
            "MAIL_SENDER": "no-reply@example.org",
        }
        if production
        else testing_settings(directory)
    )
    env = service_env(
        "AUTH",
        {
            **base,
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": db_name,
            # Its spec's server: where Swagger UI's "Try it out" sends requests.
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TOKEN_URL": f"http://127.0.0.1:{port}/auth/token",
            **settings,
        },
    )
    env.update(environment or {})
    return GunicornServer(
        "auth_service.wsgi:app", env, workers=workers, log_path=directory / "auth.log", port=port
    )


def todo_server(
    *,
    mongo_uri: str,
    db_name: str,
    directory: Path,
    auth_url: str,
    production: bool = True,
    workers: int = 2,
    environment: Mapping[str, str] | None = None,
    **settings: Any,
) -> GunicornServer:
    """todo_service under gunicorn (not started), trusting the auth service at ``auth_url``;
    settings and environment as for auth_server."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base: dict[str, Any] = (
        production_settings(directory) if production else testing_settings(directory)
    )
    env = service_env(
        "TODO",
        {
            **base,
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": db_name,
            "JWKS_URL": f"{auth_url}/.well-known/jwks.json",
            "REVOCATION_FEED_URL": f"{auth_url}/auth/revocations",
            "REVOCATION_POLL_SECONDS": 1,
            "EVENT_FEED_URL": f"{auth_url}/auth/events",
            "FEED_TOKEN": FEED_TOKEN,
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TOKEN_URL": f"{auth_url}/auth/token",
            **settings,
        },
    )
    env.update(environment or {})
    log_name = f"todo-{db_name}.log"
    return GunicornServer(
        "todo_service.wsgi:app", env, workers=workers, log_path=directory / log_name, port=port
    )


def start_auth(**options: Any) -> GunicornServer:
    """auth_server(...), started."""
    return auth_server(**options).start()


def start_todo(**options: Any) -> GunicornServer:
    """todo_server(...), started."""
    return todo_server(**options).start()


@contextmanager
def auth_and_todo(
    mongo_client: MongoClient[Any],
    *,
    mongo_uri: str,
    directory: Path,
    db_names: tuple[str, str],
    auth: Mapping[str, Any] | None = None,
    todo: Mapping[str, Any] | None = None,
) -> Iterator[tuple[GunicornServer, GunicornServer]]:
    """(auth, todo) started in that order, todo trusting auth, each on its database of
    ``db_names`` with its options (``auth_server``'s, ``todo_server``'s); afterwards both
    stopped (auth too if todo fails to start) and their databases dropped."""
    auth_db, todo_db = db_names
    try:
        auth_process = start_auth(
            mongo_uri=mongo_uri, db_name=auth_db, directory=directory / "auth", **(auth or {})
        )
        try:
            todo_process = start_todo(
                mongo_uri=mongo_uri,
                db_name=todo_db,
                directory=directory / "todo",
                auth_url=auth_process.url,
                **(todo or {}),
            )
            try:
                yield auth_process, todo_process
            finally:
                todo_process.stop()
        finally:
            auth_process.stop()
    finally:
        for name in db_names:
            mongo_client.drop_database(name)


@contextmanager
def todo_then_auth(
    *, mongo_uri: str, db_name: str, directory: Path, environment: Mapping[str, str]
) -> Iterator[tuple[GunicornServer, GunicornServer]]:
    """(auth, todo), both with ``environment``, todo started first and auth then on the port
    todo trusts: todo's first token makes it fetch auth's keys inside a client's request."""
    auth_port = free_port()
    todo = start_todo(
        mongo_uri=mongo_uri,
        db_name=f"{db_name}_todo",
        directory=directory / "todo",
        auth_url=f"http://127.0.0.1:{auth_port}",
        LOG_LEVEL="INFO",
        environment=environment,
    )
    try:
        auth = start_auth(
            mongo_uri=mongo_uri,
            db_name=f"{db_name}_auth",
            directory=directory / "auth",
            port=auth_port,
            environment=environment,
        )
        try:
            yield auth, todo
        finally:
            auth.stop()
    finally:
        todo.stop()
