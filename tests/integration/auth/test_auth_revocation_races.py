"""Requests in flight across a revoke-all: no token they mint survives it.

A login (or refresh) that read the account before a password change, and finishes after it,
must not hand out a working token. The change is made from inside the login's own password
check (or the refresh's claim), then the clock is let past the next whole second, the worst
case for any cut-off by issue time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.integration.auth.helpers import PASSWORD, bearer, login, register

from auth_service.passwords import Passwords
from auth_service.repositories import RefreshTokenRepository

NEW_PASSWORD = "a much better passphrase"


def _past_the_next_second() -> None:
    time.sleep(1.05 - time.time() % 1)


def _victim_action(app: Flask, action: str) -> Callable[[], None]:
    """What the account's owner (or an admin) does meanwhile, from another client."""

    def change_password() -> None:
        victim = app.test_client()
        fresh = login(victim)
        answer = victim.post(
            "/auth/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(fresh["access_token"]),
        )
        assert answer.status_code == 204, answer.json

    def delete_account() -> None:
        victim = app.test_client()
        fresh = login(victim)
        answer = victim.delete(
            "/auth/me", json={"password": PASSWORD}, headers=bearer(fresh["access_token"])
        )
        assert answer.status_code == 204, answer.json

    return {"change password": change_password, "delete account": delete_account}[action]


def _assert_refused(client: FlaskClient, pair: dict[str, Any]) -> None:
    me = client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 401, me.json
    refreshed = client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert refreshed.status_code == 401, refreshed.json


@pytest.mark.parametrize("action", ["change password", "delete account"])
def test_a_login_in_flight_does_not_survive_a_revoke_all(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    register(client)
    verify = Passwords.verify
    meanwhile = _victim_action(app, action)
    in_flight = {"done": False}

    def verify_while_the_owner_acts(self: Passwords, password_hash: Any, password: str) -> bool:
        result = verify(self, password_hash, password)
        if not in_flight["done"] and password == PASSWORD:
            in_flight["done"] = True
            with monkeypatch.context() as inner:
                inner.setattr(Passwords, "verify", verify)
                meanwhile()
            _past_the_next_second()
        return result

    monkeypatch.setattr(Passwords, "verify", verify_while_the_owner_acts)
    attacker = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    monkeypatch.undo()
    assert in_flight["done"]
    if attacker.status_code == 200:  # the login had checked the old password: tokens, but dead
        _assert_refused(client, attacker.json)
    else:
        assert attacker.status_code == 401


def test_a_refresh_in_flight_does_not_survive_a_password_change(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client)
    stolen = login(client)
    claim = RefreshTokenRepository.claim
    meanwhile = _victim_action(app, "change password")

    def claim_while_the_owner_acts(self: RefreshTokenRepository, **kwargs: Any) -> Any:
        claimed = claim(self, **kwargs)
        monkeypatch.setattr(RefreshTokenRepository, "claim", claim)
        meanwhile()
        _past_the_next_second()
        return claimed

    monkeypatch.setattr(RefreshTokenRepository, "claim", claim_while_the_owner_acts)
    refreshed = client.post("/auth/refresh", headers=bearer(stolen["refresh_token"]))
    monkeypatch.undo()
    if refreshed.status_code == 200:
        _assert_refused(client, refreshed.json)
    else:
        assert refreshed.status_code == 401
