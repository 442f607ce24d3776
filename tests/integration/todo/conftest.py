"""Fixtures for the todo service: a stand-in auth (JWKS + revocation feed) and callers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient
from tests.support import AppFactory
from tests.support.tokens import IssuerServer, TokenIssuer
from werkzeug.test import TestResponse

from todo_service import create_app


class Caller:
    """A user of the API: every request carries their bearer token."""

    def __init__(self, client: FlaskClient, issuer: TokenIssuer, sub: str | None = None) -> None:
        self.client = client
        self.issuer = issuer
        self.sub = sub or str(ObjectId())
        self.token = issuer.access_token(self.sub)

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/todos", json={"title": "a todo", **fields})
        assert response.status_code == 201, response.json
        body: dict[str, Any] = response.json  # type: ignore[assignment]
        return body


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def auth_server(issuer: TokenIssuer) -> Iterator[IssuerServer]:
    with IssuerServer(issuer) as server:
        yield server


@pytest.fixture
def todo_factory(make_app: AppFactory, auth_server: IssuerServer) -> AppFactory:
    """Todo apps trusting ``auth_server`` (keys, revocations, account events)."""

    def make(**overrides: Any) -> Flask:
        config = {
            "JWKS_URL": auth_server.jwks_url,
            "REVOCATION_FEED_URL": auth_server.feed_url,
            "REVOCATION_POLL_SECONDS": 0.2,
            "EVENT_FEED_URL": auth_server.events_url,
            "EVENT_POLL_SECONDS": 0.2,
            **overrides,
        }
        return make_app(create_app, **config)

    return make


@pytest.fixture
def todo_app(todo_factory: AppFactory) -> Flask:
    return todo_factory()


@pytest.fixture
def client(todo_app: Flask) -> FlaskClient:
    return todo_app.test_client()


@pytest.fixture
def alice(client: FlaskClient, issuer: TokenIssuer) -> Caller:
    return Caller(client, issuer)


@pytest.fixture
def bob(client: FlaskClient, issuer: TokenIssuer) -> Caller:
    return Caller(client, issuer)
