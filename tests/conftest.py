"""Fixtures shared by every test: a real MongoDB-protocol server and a database per test."""

from __future__ import annotations

import io
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pymongo import MongoClient

from factory_core.runtime.lifecycle import shutdown
from factory_core.runtime.logs import configure_logging, log_handler
from tests.support import AppFactory, LogLines
from tests.support.devdb import DevDB
from tests.support.mailcatcher import MailCatcher, mail_catcher


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """MONGO_URI when set (a real MongoDB), else one dev database per test session/xdist worker."""
    if os.environ.get("MONGO_URI"):
        yield os.environ["MONGO_URI"]
        return
    devdb = DevDB(tmp_path_factory.mktemp("devdb")).start()
    try:
        yield devdb.uri
    finally:
        devdb.stop()


@pytest.fixture(scope="session")
def mails() -> Iterator[MailCatcher]:
    """A real SMTP server with an inbox (Mailpit) per test session/xdist worker."""
    with mail_catcher() as catcher:
        yield catcher


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient[dict[str, object]]]:
    client: MongoClient[dict[str, object]] = MongoClient(
        mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    yield client
    client.close()


@pytest.fixture
def db_name(mongo_client: MongoClient[dict[str, object]]) -> Iterator[str]:
    """A database of the test's own, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def make_app(mongo_uri: str, db_name: str, instance_path: Path) -> Iterator[AppFactory]:
    """Build apps on the test's database with testing settings; their clients close afterwards."""
    apps: list[Flask] = []

    def make(create_app: Callable[[dict[str, Any]], Flask], **overrides: Any) -> Flask:
        config = {
            "ENV": "testing",
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": db_name,
            "INSTANCE_PATH": str(instance_path),
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        shutdown(app)  # its background threads (revocation poller, event consumer) end with it


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """What factory_core's log handler writes during the test (apps' and ``logging``'s lines)."""
    stream = io.StringIO()
    handler = log_handler()
    if handler is not None:
        before = handler.setStream(stream)
    else:  # no app built yet in this process
        handler, before = configure_logging("INFO", json_lines=True, stream=stream), sys.stderr
    yield LogLines(stream.getvalue)
    handler.setStream(before)
