"""A deploy's order: workers of new code start against a database one step behind, are not
ready (and say why), and become ready once `flask migrate up` (deploy/'s init container) ran."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient
from tests.support.devdb import ROOT
from tests.support.services import FEED_TOKEN, service_env, start_auth, start_todo

pytestmark = pytest.mark.gunicorn

STEP = "0002_tags_normalised"


def _readyz(url: str) -> requests.Response:
    return requests.get(f"{url}/readyz", timeout=5)


def test_workers_are_ready_once_the_deploy_migrated_their_database(
    mongo_uri: str, mongo_client: MongoClient[Any], db_name: str, tmp_path: Path
) -> None:
    # A database migrated by the previous release, which had only the first step.
    mongo_client[db_name].migrations.insert_one({"_id": "0001_indexes"})
    auth = start_auth(mongo_uri=mongo_uri, db_name=f"{db_name}_auth", directory=tmp_path / "a")
    settings = {"MIGRATE_AT_START": None}  # production's default: the deploy migrates
    todo = start_todo(
        mongo_uri=mongo_uri, db_name=db_name, directory=tmp_path, auth_url=auth.url, **settings
    )
    try:
        behind = _readyz(todo.url)
        assert behind.status_code == 503
        assert behind.json()["code"] == "migrations_pending"
        assert f"({STEP} not applied)" in behind.json()["detail"]
        assert "flask --app todo_service migrate up" in behind.json()["detail"]

        env = service_env(
            "TODO",
            {
                "ENV": "production",
                "SECRET_KEY": "s" * 48,
                "FEED_TOKEN": FEED_TOKEN,
                "MONGO_URI": mongo_uri,
                "MONGO_DB_NAME": db_name,
                "INSTANCE_PATH": str(tmp_path),
                "LOG_JSON": False,
            },
        )
        migrate = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "todo_service", "migrate", "up"],
            cwd=ROOT,
            env={**env, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        assert f"migrated todo_service: {STEP}" in migrate.stdout
        assert mongo_client[db_name].migrations.count_documents({}) == 2

        deadline = time.monotonic() + 10
        checks: dict[str, str] = {}
        while time.monotonic() < deadline:
            answer = _readyz(todo.url)
            if answer.status_code == 200:
                checks = answer.json()["checks"]
                break
            time.sleep(0.2)
        assert checks.get("migrations") == STEP, answer.json()
    finally:
        todo.stop()
        auth.stop()
        mongo_client.drop_database(f"{db_name}_auth")
