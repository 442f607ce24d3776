"""Two-factor sign-in (TOTP, RFC 6238): enrolment confirmed by a first code, a login that asks
for a code, recovery codes, no replay, limits per account, turning it off; tokens name how they
signed in (amr)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from tests.integration.auth.helpers import PASSWORD, bearer, claims_of, login, register
from tests.support.problems import assert_problem

from auth_service.mfa import VALID_WINDOW


def enrol(client: FlaskClient, tokens: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/auth/me/mfa/totp", headers=bearer(tokens["access_token"]))
    assert response.status_code == 201, response.json
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.json
    return body


def next_code(secret: str, used: set[str] | None = None) -> str:
    """A code of the current time step, else of the next one (a step is used once)."""
    totp = pyotp.TOTP(secret)
    code = totp.now()
    if used is not None and code in used:
        code = totp.at(time.time() + totp.interval)
    if used is not None:
        used.add(code)
    return code


def turn_on(client: FlaskClient, tokens: dict[str, Any]) -> tuple[str, list[str], set[str]]:
    """MFA on for the tokens' account: its secret, recovery codes, and the codes used."""
    secret = enrol(client, tokens)["secret"]
    used: set[str] = set()
    confirmed = client.post(
        "/auth/me/mfa/totp/confirm",
        json={"code": next_code(secret, used)},
        headers=bearer(tokens["access_token"]),
    )
    assert confirmed.status_code == 200, confirmed.json
    codes: list[str] = confirmed.json["recovery_codes"]
    return secret, codes, used


def challenge(client: FlaskClient, username: str = "alice", password: str = PASSWORD) -> str:
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 202, response.json
    assert response.json["mfa_required"] is True
    assert response.json["expires_in"] > 0
    assert response.headers["Cache-Control"] == "no-store"
    return str(response.json["challenge"])


def test_enrolment_gives_a_secret_an_otpauth_uri_and_a_qr_code(client: FlaskClient) -> None:
    register(client)
    enrolment = enrol(client, login(client))

    first = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert first.status_code == 200  # pending: the password alone still signs in
    parsed = pyotp.parse_uri(enrolment["otpauth_uri"])
    assert parsed.secret == enrolment["secret"]
    assert parsed.name == "alice"
    assert parsed.issuer == "Flask Factory"
    assert enrolment["qr_svg"].startswith("<svg")
    me = client.get("/auth/me", headers=bearer(login(client)["access_token"]))
    assert me.json["mfa_enabled"] is False  # pending until a code confirms it


def test_a_wrong_first_code_does_not_turn_it_on(client: FlaskClient) -> None:
    register(client)
    tokens = login(client)
    enrol(client, tokens)
    wrong = client.post(
        "/auth/me/mfa/totp/confirm", json={"code": "000000"}, headers=bearer(tokens["access_token"])
    )
    assert_problem(wrong, 403, "wrong_code")
    malformed = client.post(
        "/auth/me/mfa/totp/confirm", json={"code": "12345"}, headers=bearer(tokens["access_token"])
    )
    assert_problem(malformed, 422)
    assert (
        client.post("/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )


def test_with_mfa_a_login_needs_a_code_and_the_tokens_say_so(client: FlaskClient) -> None:
    register(client)
    first = login(client)
    assert claims_of(first["access_token"])["amr"] == ["pwd"]
    secret, codes, used = turn_on(client, first)
    assert len(codes) == len(set(codes)) == 10

    answer = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert answer.json["expires_in"] == 300
    assert set(answer.json) == {"mfa_required", "challenge", "expires_in"}
    pending = challenge(client)
    done = client.post(
        "/auth/login/mfa", json={"challenge": pending, "code": next_code(secret, used)}
    )

    assert done.status_code == 200, done.json
    assert done.headers["Cache-Control"] == "no-store"
    claims = claims_of(done.json["access_token"])
    assert claims["amr"] == ["pwd", "otp"]
    refreshed = client.post("/auth/refresh", headers=bearer(done.json["refresh_token"]))
    assert claims_of(refreshed.json["access_token"])["amr"] == ["pwd", "otp"]
    me = client.get("/auth/me", headers=bearer(done.json["access_token"]))
    assert me.json["mfa_enabled"] is True


def test_a_code_is_accepted_once(client: FlaskClient) -> None:
    register(client)
    secret, _codes, used = turn_on(client, login(client))
    code = next_code(secret, used)
    assert (
        client.post(
            "/auth/login/mfa", json={"challenge": challenge(client), "code": code}
        ).status_code
        == 200
    )

    replay = client.post("/auth/login/mfa", json={"challenge": challenge(client), "code": code})

    assert_problem(replay, 403, "wrong_code")


def test_recovery_codes_work_once_each(client: FlaskClient) -> None:
    register(client)
    _secret, codes, _used = turn_on(client, login(client))
    spelled = codes[0].lower().replace("-", "")  # case and the dash do not matter

    first = client.post("/auth/login/mfa", json={"challenge": challenge(client), "code": spelled})
    again = client.post("/auth/login/mfa", json={"challenge": challenge(client), "code": codes[0]})

    assert first.status_code == 200, first.json
    assert claims_of(first.json["access_token"])["amr"] == ["pwd", "otp"]
    assert_problem(again, 403, "wrong_code")
    missing = client.post("/auth/login/mfa", json={"challenge": challenge(client)})
    assert_problem(missing, 422)


def test_codes_are_limited_per_account(make_auth_app: Callable[..., Flask]) -> None:
    client = make_auth_app(
        RATE_LIMITS_ENABLED=True, MFA_RATE_LIMIT_PER_ACCOUNT="3 per minute"
    ).test_client()
    register(client)
    secret, _codes, used = turn_on(client, login(client))  # the confirmation is one attempt
    pending = challenge(client)
    for _ in range(2):
        wrong = client.post("/auth/login/mfa", json={"challenge": pending, "code": "000000"})
        assert_problem(wrong, 403, "wrong_code")

    limited = client.post(
        "/auth/login/mfa", json={"challenge": pending, "code": next_code(secret, used)}
    )

    body = assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert body["detail"]


def test_a_challenge_is_void_when_forged_expired_or_the_password_changed(
    make_auth_app: Callable[..., Flask],
) -> None:
    client = make_auth_app(MFA_CHALLENGE_SECONDS=1).test_client()
    register(client)
    tokens = login(client)
    secret, _codes, used = turn_on(client, tokens)
    pending = challenge(client)
    forged = pending[:-2] + ("AA" if not pending.endswith("AA") else "BB")
    assert_problem(
        client.post("/auth/login/mfa", json={"challenge": forged, "code": next_code(secret)}),
        401,
        "invalid_challenge",
    )
    time.sleep(2.1)
    expired = client.post(
        "/auth/login/mfa", json={"challenge": pending, "code": next_code(secret, used)}
    )
    assert_problem(expired, 401, "invalid_challenge")


def test_a_password_change_voids_a_challenge_issued_before(client: FlaskClient) -> None:
    register(client)
    tokens = login(client)
    secret, _codes, used = turn_on(client, tokens)
    before = challenge(client)
    changed = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 204
    void = client.post(
        "/auth/login/mfa", json={"challenge": before, "code": next_code(secret, used)}
    )
    assert_problem(void, 401, "invalid_challenge")
    fresh = challenge(client, password="another fine passphrase")
    assert (
        client.post(
            "/auth/login/mfa", json={"challenge": fresh, "code": next_code(secret, used)}
        ).status_code
        == 200
    )


def test_turning_it_off_needs_a_fresh_token_the_password_and_a_code(client: FlaskClient) -> None:
    """Codes of two time steps are used by then (enrolment, login): within the drift window
    no third is left, so the last step uses a recovery code, as a user whose phone is lost."""
    register(client)
    tokens = login(client)
    secret, codes, used = turn_on(client, tokens)
    fresh = client.post(
        "/auth/login/mfa", json={"challenge": challenge(client), "code": next_code(secret, used)}
    ).json
    stale = client.post("/auth/refresh", headers=bearer(fresh["refresh_token"])).json

    not_fresh = client.delete(
        "/auth/me/mfa",
        json={"password": PASSWORD, "code": codes[0]},
        headers=bearer(stale["access_token"]),
    )
    assert_problem(not_fresh, 401, "fresh_token_required")
    wrong_password = client.delete(
        "/auth/me/mfa",
        json={"password": "not it at all", "code": codes[0]},
        headers=bearer(fresh["access_token"]),
    )
    assert_problem(wrong_password, 403, "wrong_password")
    wrong_code = client.delete(
        "/auth/me/mfa",
        json={"password": PASSWORD, "code": "000000"},
        headers=bearer(fresh["access_token"]),
    )
    assert_problem(wrong_code, 403, "wrong_code")

    off = client.delete(
        "/auth/me/mfa",
        json={"password": PASSWORD, "code": codes[0]},
        headers=bearer(fresh["access_token"]),
    )

    assert off.status_code == 204
    signed_in = client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 200
    again = client.delete(
        "/auth/me/mfa",
        json={"password": PASSWORD, "code": "123456"},
        headers=bearer(fresh["access_token"]),
    )
    assert_problem(again, 409, "mfa_not_enabled")


def test_a_password_reset_or_change_leaves_mfa_on(client: FlaskClient) -> None:
    register(client)
    tokens = login(client)
    secret, _codes, used = turn_on(client, tokens)
    changed = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 204
    pending = challenge(client, password="another fine passphrase")
    done = client.post(
        "/auth/login/mfa", json={"challenge": pending, "code": next_code(secret, used)}
    )
    assert done.status_code == 200, done.json


def test_enrolment_needs_a_fresh_token_and_mfa_off(client: FlaskClient) -> None:
    register(client)
    tokens = login(client)
    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).json
    assert_problem(
        client.post("/auth/me/mfa/totp", headers=bearer(refreshed["access_token"])),
        401,
        "fresh_token_required",
    )
    turn_on(client, tokens)
    assert_problem(
        client.post("/auth/me/mfa/totp", headers=bearer(tokens["access_token"])), 409, "mfa_enabled"
    )


def test_the_security_log_records_mfa_and_failed_codes(client: FlaskClient) -> None:
    register(client)
    _secret, codes, _used = turn_on(client, login(client))
    wrong = client.post("/auth/login/mfa", json={"challenge": challenge(client), "code": "000000"})
    assert_problem(wrong, 403, "wrong_code")
    done = client.post(
        "/auth/login/mfa", json={"challenge": challenge(client), "code": codes[0]}
    ).json

    log = client.get("/auth/me/security-events", headers=bearer(done["access_token"])).json

    assert [each["type"] for each in log[:4]] == [
        "sign_in",
        "recovery_code_used",
        "sign_in_failed",
        "mfa_enabled",
    ]
    assert log[0]["methods"] == ["pwd", "otp"]
    assert log[2]["reason"] == "wrong_code"


def test_the_secret_is_kept_and_codes_stored_as_digests(
    client: FlaskClient, mongo_client: MongoClient[Any], db_name: str
) -> None:
    user = register(client)
    _secret, codes, _used = turn_on(client, login(client))
    stored = mongo_client[db_name].users.find_one({"username_key": "alice"})
    assert stored is not None
    assert "mfa_pending" not in stored
    assert len(stored["mfa"]["recovery_codes"]) == 10
    assert not set(codes) & set(stored["mfa"]["recovery_codes"])
    assert user["id"] == str(stored["_id"])
    assert VALID_WINDOW == 1
