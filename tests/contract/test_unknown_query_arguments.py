"""One behaviour on every operation: a query argument the spec does not name is a 422.

Third audit, 10: `/todos?x=1` was a 422 while `/auth/users?x=1` was silently accepted. Every
operation of every committed spec is walked (the generated service's own tests do the same).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bson import ObjectId
from flask import Flask
from tests.contract.test_documented_responses import (
    FEED_TOKEN,
    RELAXED_LIMITS,
    make_admin,
)
from tests.support import AppFactory
from tests.support.accounts import FlaskHttp, registered
from tests.support.devdb import ROOT
from tests.support.openapi import operations

from auth_service import create_app as create_auth
from auth_service.routes.feeds import FEED_SCHEME
from todo_service import create_app as create_todo


def _refuses_unknown_arguments(
    app: Flask, service: str, headers: dict[str, str], refresh: dict[str, str] | None = None
) -> list[str]:
    client = app.test_client()
    wrong = []
    spec = json.loads((ROOT / "services" / service / "openapi.json").read_text())
    for method, path, operation in operations(spec):
        url = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(ObjectId()))
        body: dict[str, Any] = {}
        if "requestBody" in operation:
            form = "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
            body = {"data": {"grant_type": "password"}} if form else {"json": {}}
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        credentials = headers
        if FEED_SCHEME in schemes:
            credentials = {"Authorization": f"Bearer {FEED_TOKEN}"}
        elif path == "/auth/refresh" and refresh:
            credentials = refresh
        answer = client.open(
            f"{url}?no_such_argument=1", method=method, headers=credentials, **body
        )
        problem = answer.get_json(silent=True) or {}
        expected = {"query": {"no_such_argument": ["Unknown field."]}}
        if (
            answer.status_code != 422
            or answer.mimetype != "application/problem+json"
            or problem.get("errors") != expected
        ):
            wrong.append(f"{method} {path}: {answer.status_code} {problem}")
    return wrong


def test_every_auth_operation_refuses_an_unknown_query_argument(make_app: AppFactory) -> None:
    app = make_app(create_auth, FEED_TOKEN=FEED_TOKEN, **RELAXED_LIMITS)
    headers = {"Authorization": f"Bearer {make_admin(app)}"}
    pair = registered(FlaskHttp(app.test_client())).tokens
    refresh = {"Authorization": f"Bearer {pair['refresh_token']}"}
    wrong = _refuses_unknown_arguments(app, "auth", headers, refresh)
    assert not wrong, "\n".join(wrong)


def test_every_todo_operation_refuses_an_unknown_query_argument(
    make_app: AppFactory, tmp_path: Path
) -> None:
    auth = make_app(create_auth, FEED_TOKEN=FEED_TOKEN, **RELAXED_LIMITS)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(auth.test_client().get("/.well-known/jwks.json").get_data(as_text=True))
    app = make_app(create_todo, JWKS_FILE=str(jwks), REVOCATION_FEED_URL="")
    headers = {"Authorization": f"Bearer {make_admin(auth)}"}
    wrong = _refuses_unknown_arguments(app, "todo", headers)
    assert not wrong, "\n".join(wrong)
