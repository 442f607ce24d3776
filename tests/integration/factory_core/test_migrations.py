"""Migrations: the commands, readiness while behind, runners at once, a runner killed mid-step.

The steps (tests/support/counted_migrations) count their runs in the database, so "exactly once"
is read there, not inferred from logs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pymongo import IndexModel, MongoClient
from tests.support import AppFactory
from tests.support.devdb import ROOT
from tests.support.migration_app import create_app
from tests.support.waiting import eventually

from factory_core import create_indexes, drop_indexes, expiring

STEPS = ["0001_counted", "0002_backfill"]


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app(create_app, MIGRATE_AT_START=False)


def _runner_env(mongo_uri: str, db_name: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SAMPLE_ENV": "testing",
        "SAMPLE_MONGO_URI": mongo_uri,
        "SAMPLE_MONGO_DB_NAME": db_name,
        "SAMPLE_INSTANCE_PATH": str(tmp_path),
        "SAMPLE_MIGRATE_AT_START": "false",
        "SAMPLE_MIGRATION_LEASE_SECONDS": "1",
        "SAMPLE_LOG_JSON": "false",
        **extra,
    }


def _migrate(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tests.support.migration_app", "migrate", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _applied(mongo_client: MongoClient[Any], db_name: str) -> list[str]:
    return sorted(step["_id"] for step in mongo_client[db_name].migrations.find())


def test_a_worker_is_not_ready_until_its_database_is_migrated(
    app: Flask, mongo_client: MongoClient[Any], db_name: str
) -> None:
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert body["code"] == "migrations_pending"
    assert "0001_counted, 0002_backfill" in body["detail"]
    assert "flask --app tests.support.migration_app migrate up" in body["detail"]

    cli = app.test_cli_runner()
    status = cli.invoke(args=["migrate", "status"])
    assert status.exit_code == 0
    assert [line.split()[:2] for line in status.output.splitlines()] == [
        ["0001_counted", "pending"],
        ["0002_backfill", "pending"],
    ]
    up = cli.invoke(args=["migrate", "up"])
    assert up.exit_code == 0, up.output
    assert "2 applied" in up.output
    assert _applied(mongo_client, db_name) == STEPS

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["migrations"] == "0002_backfill"
    again = cli.invoke(args=["migrate", "up"])
    assert "0 applied" in again.output
    assert mongo_client[db_name].step_runs.find_one({"_id": "0001"})["runs"] == 1


def test_a_database_one_step_behind_names_the_step(
    app: Flask, mongo_client: MongoClient[Any], db_name: str
) -> None:
    mongo_client[db_name].migrations.insert_one({"_id": "0001_counted"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    detail = response.get_json()["detail"]
    assert "(0002_backfill not applied)" in detail
    assert app.test_cli_runner().invoke(args=["migrate", "up"]).exit_code == 0
    assert app.test_client().get("/readyz").status_code == 200
    assert mongo_client[db_name].step_runs.find_one({"_id": "0001"}) is None  # not run again


def test_down_undoes_the_last_step_that_can_be_undone(
    app: Flask, mongo_client: MongoClient[Any], db_name: str
) -> None:
    cli = app.test_cli_runner()
    assert cli.invoke(args=["migrate", "up"]).exit_code == 0
    refused = cli.invoke(args=["migrate", "down"])
    assert refused.exit_code == 1
    assert "0002_backfill has no down()" in refused.output
    assert _applied(mongo_client, db_name) == STEPS

    mongo_client[db_name].migrations.delete_one({"_id": "0002_backfill"})
    undone = cli.invoke(args=["migrate", "down"])
    assert undone.exit_code == 0, undone.output
    assert "undid 0001_counted" in undone.output
    assert _applied(mongo_client, db_name) == []
    assert mongo_client[db_name].step_runs.find_one({"_id": "0001"})["downs"] == 1
    assert "nothing to undo" in cli.invoke(args=["migrate", "down"]).output


def test_new_writes_the_next_step(app: Flask, tmp_path: Path, monkeypatch: Any) -> None:
    import tests.support.counted_migrations as steps  # noqa: PLC0415

    monkeypatch.setattr(steps, "__path__", [str(tmp_path)])
    written = app.test_cli_runner().invoke(args=["migrate", "new", "Tags: normalised!"])
    assert written.exit_code == 0, written.output
    path = tmp_path / "0003_tags_normalised.py"
    assert str(path) in written.output
    source = path.read_text()
    assert "def up(db: Database[Document]) -> None:" in source
    compile(source, str(path), "exec")


def test_runners_started_at_once_apply_each_step_once(
    mongo_uri: str, mongo_client: MongoClient[Any], db_name: str, tmp_path: Path
) -> None:
    mongo_client[db_name].things.insert_many([{"n": n} for n in range(250)])
    env = _runner_env(mongo_uri, db_name, tmp_path, MIGRATION_TEST_SLEEP="1")
    runners = [_migrate(env, "up") for _ in range(3)]
    outputs = [runner.communicate(timeout=60)[0] for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0, 0], outputs
    assert sorted("2 applied" in output for output in outputs) == [False, False, True], outputs
    database = mongo_client[db_name]
    assert database.step_runs.find_one({"_id": "0001"})["runs"] == 1
    assert database.things.count_documents({"done": True, "changes": 1}) == 250
    assert _applied(mongo_client, db_name) == STEPS


def test_a_runner_killed_between_batches_is_taken_over_and_nothing_is_done_twice(
    mongo_uri: str, mongo_client: MongoClient[Any], db_name: str, tmp_path: Path
) -> None:
    things = mongo_client[db_name].things
    things.insert_many([{"n": n} for n in range(1000)])
    env = _runner_env(mongo_uri, db_name, tmp_path, MIGRATION_TEST_DELAY="0.003")
    first = _migrate(env, "up")
    started = eventually(
        lambda: things.count_documents({"done": True}), lambda done: done >= 200, within=30
    )
    assert started >= 200
    first.send_signal(signal.SIGKILL)  # as a deploy's Job pod is evicted
    first.communicate(timeout=10)
    partly = things.count_documents({"done": True})
    assert 200 <= partly < 1000
    assert _applied(mongo_client, db_name) == ["0001_counted"]  # 0002 is not recorded

    second = _migrate({**env, "MIGRATION_TEST_DELAY": "0"}, "up")
    output = second.communicate(timeout=60)[0]
    assert second.returncode == 0, output
    assert "1 applied" in output
    assert things.count_documents({"done": True, "changes": 1}) == 1000  # none changed twice
    assert _applied(mongo_client, db_name) == STEPS


def test_drop_indexes_undoes_create_indexes(mongo_client: MongoClient[Any], db_name: str) -> None:
    database = mongo_client[db_name]
    indexes = {"things": [IndexModel([("n", 1)], name="n"), expiring()]}
    create_indexes(database, indexes)
    create_indexes(database, indexes)  # again, alike: nothing to do
    assert sorted(database.things.index_information()) == ["_id_", "expires_at_ttl", "n"]
    drop_indexes(database, indexes)
    assert sorted(database.things.index_information()) == ["_id_"]
