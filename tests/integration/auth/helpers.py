"""Helpers of the auth integration tests: register, log in, forge tokens."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from tests.support.accounts import Account, FlaskHttp

PASSWORD = "correct horse battery staple"


def register(client: FlaskClient, username: str = "alice", **extra: Any) -> dict[str, Any]:
    """Register ``username`` (with PASSWORD); the public account auth answered with."""
    return Account(FlaskHttp(client), username, PASSWORD).register(**extra).user


def login(client: FlaskClient, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    """Log in; the token pair auth answered with."""
    return Account(FlaskHttp(client), username, password).login().tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a token, unverified (to build forged variants of it)."""
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def sign(app: Flask, claims: dict[str, Any], **headers: Any) -> str:
    """Sign ``claims`` with the app's real signing key and kid (plus extra ``headers``)."""
    keys = app.extensions["auth.keys"]
    return jwt.encode(
        claims, keys.signing_key, algorithm="ES256", headers={"kid": keys.signing_kid, **headers}
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand, e.g. with ``alg: none`` or a foreign signature."""
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


def now() -> int:
    return int(time.time())
