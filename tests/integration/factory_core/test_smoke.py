"""Smoke: both services compose and answer their probes against the real dev database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from tests.support import AppFactory

from auth_service import create_app as create_auth
from todo_service import create_app as create_todo


@pytest.mark.parametrize("create_app", [create_auth, create_todo])
def test_service_probes_and_docs(create_app: Callable[..., Flask], make_app: AppFactory) -> None:
    app = make_app(create_app)
    client = app.test_client()
    assert client.get("/livez").json == {"status": "ok", "checks": {}}
    assert client.get("/readyz").json == {"status": "ok", "checks": {"mongo": "ok"}}
    assert client.get("/openapi.json").json["info"]["title"].endswith("API")
    assert client.get("/docs").status_code == 200
