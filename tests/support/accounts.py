"""Accounts made through auth's public API, by a live HTTP client or a Flask test client.

Nothing here mints a token: every token comes from POST /auth/login. The same Account serves
the integration tests (a Flask test client), the live tests (requests to gunicorn) and the
benchmarks.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from flask.testing import FlaskClient


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, whichever client got it."""

    status: int
    headers: Mapping[str, str]
    body: Any


class Http(Protocol):
    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Answer: ...


class LiveHttp:
    """Requests to a running server."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.timeout = timeout

    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        answer = requests.request(
            method, self.base_url + path, json=json, headers=headers, timeout=self.timeout
        )
        body = (
            answer.json()
            if answer.content and "json" in answer.headers.get("Content-Type", "")
            else None
        )
        return Answer(answer.status_code, answer.headers, body)


class FlaskHttp:
    """Requests through a Flask test client (in process)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        answer = self.client.open(path, method=method, json=json, headers=dict(headers or {}))
        return Answer(answer.status_code, answer.headers, answer.get_json(silent=True))


def new_username(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def new_password() -> str:
    # Long, random and not on any common-password list.
    return f"Pw-{secrets.token_urlsafe(18)}"


@dataclass
class Account:
    """A user of the system, registered and logged in through auth's public API."""

    http: Http
    username: str = field(default_factory=new_username)
    password: str = field(default_factory=new_password)
    user_id: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    access_token: str = ""
    refresh_token: str = ""
    tokens: dict[str, Any] = field(default_factory=dict)

    def register(self, **extra: Any) -> Account:
        answer = self.http.request(
            "POST",
            "/auth/register",
            json={"username": self.username, "password": self.password, **extra},
        )
        assert answer.status == 201, (answer.status, answer.body)
        self.user = answer.body
        self.user_id = answer.body["id"]
        return self

    def login(self) -> Account:
        answer = self.http.request(
            "POST", "/auth/login", json={"username": self.username, "password": self.password}
        )
        assert answer.status == 200, (answer.status, answer.body)
        assert answer.headers["Cache-Control"].startswith("no-store"), answer.headers
        self.tokens = answer.body
        self.access_token = answer.body["access_token"]
        self.refresh_token = answer.body["refresh_token"]
        return self

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.access_token}"}


def registered(auth: str | Http, **kwargs: Any) -> Account:
    """A new account, registered and logged in (``auth``: auth's URL, or an Http)."""
    http = LiveHttp(auth) if isinstance(auth, str) else auth
    return Account(http, **kwargs).register().login()
