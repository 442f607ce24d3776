"""Fixtures for the auth service's integration tests: an app on the test's database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import login, register
from tests.support import AppFactory

from auth_service import create_app

# Generous limits so that only the rate-limit tests ever meet one.
RELAXED_LIMITS = {
    "LOGIN_RATE_LIMIT_PER_USERNAME": "1000 per minute",
    "LOGIN_RATE_LIMIT_PER_ADDRESS": "1000 per minute",
    "REGISTER_RATE_LIMIT_PER_USERNAME": "1000 per minute",
    "REGISTER_RATE_LIMIT_PER_ADDRESS": "1000 per minute",
}


@pytest.fixture
def make_auth_app(make_app: AppFactory) -> Callable[..., Flask]:
    def make(**overrides: Any) -> Flask:
        return make_app(create_app, **{**RELAXED_LIMITS, **overrides})

    return make


@pytest.fixture
def app(make_auth_app: Callable[..., Flask]) -> Flask:
    return make_auth_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(client: FlaskClient) -> dict[str, Any]:
    """A registered user "alice" and the tokens of one login."""
    user = register(client)
    return {**login(client), "user": user}
