"""Account recovery through a real SMTP server (Mailpit): e-mail verification and password
reset, their tokens (single use, expiry, bound to the password), enumeration, rate limits and
delivery that never holds a request up."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.errors import AutoReconnect
from tests.integration.auth.helpers import PASSWORD, bearer, login, register
from tests.support.mailcatcher import MailCatcher

from auth_service.repositories.recovery_tokens import COLLECTION as RECOVERY_TOKENS
from auth_service.repositories.recovery_tokens import RESET, recovery_tokens
from auth_service.repositories.users import COLLECTION as USERS
from auth_service.routes.recovery import RESET_ACCEPTED
from factory_core.outbox import OUTBOX, mail

NEW_PASSWORD = "a brand new passphrase 42"
Db = Any


@pytest.fixture
def make_recovery_app(
    make_auth_app: Callable[..., Flask], mails: MailCatcher
) -> Callable[..., Flask]:
    def make(**overrides: Any) -> Flask:
        return make_auth_app(**{**mails.settings(), **overrides})

    return make


@pytest.fixture
def app(make_recovery_app: Callable[..., Flask]) -> Flask:
    return make_recovery_app()


@pytest.fixture
def db(mongo_client: MongoClient[dict[str, Any]], db_name: str) -> Db:
    return mongo_client[db_name]


def _address() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.org"


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _verified(client: FlaskClient, mails: MailCatcher, username: str) -> str:
    """A registered account whose address is verified (through its mail); the address."""
    address = _address()
    register(client, username, email=address)
    [mail_sent] = mails.wait_for(address)
    assert client.get(_path(mails.link(mail_sent))).status_code == 200
    return address


def _reset_link(client: FlaskClient, mails: MailCatcher, identifier: str, address: str) -> str:
    before = len(mails.inbox(address))
    answer = client.post("/auth/password-reset", json={"identifier": identifier})
    assert answer.status_code == 202, answer.json
    newest = mails.wait_for(address, count=before + 1)[0]
    assert newest["Subject"] == "Reset your password"
    return mails.link(newest)


def test_registering_with_an_address_mails_a_link_that_verifies_it(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _address()
    user = register(client, "vera", email=address)
    assert user["email_verified"] is False
    [sent] = mails.wait_for(address)
    assert sent["Subject"] == "Confirm your e-mail address"
    assert sent["From"]["Address"] == "no-reply@example.org"
    link = mails.link(sent)
    assert link.startswith("http://127.0.0.1:5001/auth/email/verify?token=")  # PUBLIC_URL

    answer = client.get(_path(link))
    assert answer.status_code == 200, answer.json
    assert answer.json == {"email": address, "email_verified": True}
    assert answer.headers["Cache-Control"] == "no-store"
    me = client.get("/auth/me", headers=bearer(login(client, "vera")["access_token"]))
    assert me.json["email_verified"] is True
    again = client.get(_path(link))  # single use
    assert (again.status_code, again.json["code"]) == (400, "invalid_token")


def test_a_registration_cut_short_by_the_database_leaves_nothing_and_can_be_retried(
    client: FlaskClient, mails: MailCatcher, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by make scale-test: the account was stored, its mail not (the database failed in
    # between); the retry answered 409 and the owner never got the link.
    address = _address()
    with monkeypatch.context() as patch:

        def database_gone(*_: Any, **__: Any) -> None:
            raise AutoReconnect("the database went away")

        patch.setattr(mail, "send_later", database_gone)
        cut_short = client.post(
            "/auth/register", json={"username": "rita", "password": PASSWORD, "email": address}
        )
        assert cut_short.status_code == 503, cut_short.json
    assert db[USERS].count_documents({}) == 0
    register(client, "rita", email=address)
    [sent] = mails.wait_for(address)
    assert sent["Subject"] == "Confirm your e-mail address"
    assert db[OUTBOX].count_documents({}) == 0  # delivered, once


def test_deleting_the_account_erases_its_unused_links(
    client: FlaskClient, mails: MailCatcher, db: Db
) -> None:
    """Found by make scale-test: a verification link outlived its account until it expired."""
    address = _verified(client, mails, "ursula")
    _reset_link(client, mails, "ursula", address)
    register(client, "other", email=_address())
    user_id = db.users.find_one({"username": "ursula"})["_id"]  # type: ignore[index]
    assert db[RECOVERY_TOKENS].count_documents({"user_id": user_id}) == 1
    tokens = login(client, "ursula")
    deleted = client.delete(
        "/auth/me", json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
    )
    assert deleted.status_code == 204
    assert db[RECOVERY_TOKENS].count_documents({"user_id": user_id}) == 0
    assert db[RECOVERY_TOKENS].count_documents({}) == 1  # the other account's


def test_a_changed_address_is_unverified_until_its_own_link_is_followed(
    client: FlaskClient, mails: MailCatcher
) -> None:
    _verified(client, mails, "carol")
    token = login(client, "carol")["access_token"]
    new_address = _address()
    changed = client.patch(
        "/auth/me", json={"email": new_address, "password": PASSWORD}, headers=bearer(token)
    )
    assert (changed.status_code, changed.json["email_verified"]) == (200, False)
    [sent] = mails.wait_for(new_address)
    assert client.get(_path(mails.link(sent))).json["email_verified"] is True


def test_the_verified_address_being_replaced_is_told(
    client: FlaskClient, mails: MailCatcher
) -> None:
    # The owner learns of a change they did not make, at the address that was theirs.
    old = _verified(client, mails, "cecil")
    token = login(client, "cecil")["access_token"]
    new_address = _address()
    changed = client.patch(
        "/auth/me", json={"email": new_address, "password": PASSWORD}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.json
    notice = mails.wait_for(old, count=2)[0]  # after its verification mail
    assert notice["Subject"] == "The e-mail address of your account was changed"
    assert "cecil" in notice["Text"]
    assert new_address not in notice["Text"]  # nothing for a thief's benefit, nor a link
    assert "http" not in notice["Text"]


def test_a_verification_link_for_an_address_changed_since_does_not_verify_the_new_one(
    client: FlaskClient, mails: MailCatcher
) -> None:
    first = _address()
    register(client, "dave", email=first)
    [sent] = mails.wait_for(first)
    token = login(client, "dave")["access_token"]
    client.patch(
        "/auth/me", json={"email": _address(), "password": PASSWORD}, headers=bearer(token)
    )
    answer = client.get(_path(mails.link(sent)))
    assert (answer.status_code, answer.json["code"]) == (400, "invalid_token")
    assert client.get("/auth/me", headers=bearer(token)).json["email_verified"] is False


def test_a_password_reset_sets_the_password_and_ends_every_session(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _verified(client, mails, "erin")
    session = login(client, "erin")
    link = _reset_link(client, mails, address, address)
    assert link.startswith("http://127.0.0.1:5001/auth/password-reset/confirm?token=")

    checked = client.get(_path(link))  # a client checks the link before asking for a password
    assert checked.status_code == 200
    assert checked.json["valid"] is True
    assert checked.json["expires_at"].endswith("Z")
    done = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.json

    old = client.post("/auth/login", json={"username": "erin", "password": PASSWORD})
    assert old.status_code == 401
    assert login(client, "erin", NEW_PASSWORD)["access_token"]
    refreshed = client.post("/auth/refresh", headers=bearer(session["refresh_token"]))
    assert refreshed.status_code == 401  # every earlier session ended
    assert client.get("/auth/me", headers=bearer(session["access_token"])).status_code == 401
    reused = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": PASSWORD}
    )
    assert (reused.status_code, reused.json["code"]) == (400, "invalid_token")


def test_a_reset_by_username_goes_to_the_verified_address(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _verified(client, mails, "frank")
    link = _reset_link(client, mails, "FRANK", address)
    assert client.get(_path(link)).status_code == 200


def test_a_reset_token_issued_before_a_password_change_is_void(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _verified(client, mails, "gina")
    link = _reset_link(client, mails, "gina", address)
    fresh = login(client, "gina")["access_token"]
    changed = client.post(
        "/auth/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(fresh),
    )
    assert changed.status_code == 204
    answer = client.post(
        "/auth/password-reset/confirm",
        json={"token": _token(link), "new_password": "yet another passphrase 7"},
    )
    assert (answer.status_code, answer.json["code"]) == (400, "invalid_token")
    assert login(client, "gina", NEW_PASSWORD)["access_token"]


def test_an_expired_reset_token_is_refused(client: FlaskClient, mails: MailCatcher, db: Db) -> None:
    address = _verified(client, mails, "hank")
    link = _reset_link(client, mails, "hank", address)
    db[RECOVERY_TOKENS].update_many(
        {"purpose": "password_reset"},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    assert client.get(_path(link)).status_code == 400
    answer = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": NEW_PASSWORD}
    )
    assert (answer.status_code, answer.json["code"]) == (400, "invalid_token")


def test_only_the_newest_reset_link_works(client: FlaskClient, mails: MailCatcher) -> None:
    address = _verified(client, mails, "ivy")
    first = _reset_link(client, mails, "ivy", address)
    second = _reset_link(client, mails, "ivy", address)
    assert client.get(_path(first)).status_code == 400
    assert client.get(_path(second)).status_code == 200


def test_the_token_is_stored_hashed(client: FlaskClient, mails: MailCatcher, db: Db) -> None:
    address = _verified(client, mails, "jack")
    token = _token(_reset_link(client, mails, "jack", address))
    [stored] = db[RECOVERY_TOKENS].find({"purpose": "password_reset"})
    assert token not in str(stored)


def test_an_unknown_account_gets_the_same_answer_and_the_same_work(
    app: Flask, client: FlaskClient, db: Db
) -> None:
    register(client, "kate", email=_address())
    mail.outbox(app).stop()  # nothing is sent: the requests' own work stays in view
    answers = [
        client.post("/auth/password-reset", json={"identifier": identifier})
        for identifier in ("kate", "nobody-at-all", "nobody@example.org")
    ]
    assert {(a.status_code, a.get_data(as_text=True)) for a in answers} == {
        (202, answers[0].get_data(as_text=True))
    }
    assert answers[0].json == RESET_ACCEPTED
    recorded = list(db[OUTBOX].find({"kind": "password_reset"}))
    assert [entry["payload"] for entry in recorded] == [
        {"identifier": "kate"},
        {"identifier": "nobody-at-all"},
        {"identifier": "nobody@example.org"},
    ]
    # Tokens are made by the sender, not by the request.
    assert db[RECOVERY_TOKENS].count_documents({"purpose": "password_reset"}) == 0


def _settled(app: Flask, db: Db) -> None:
    """Wait until the outbox is empty: everything recorded was handled."""
    mail.outbox(app).ensure_started()
    for _ in range(150):
        if db[OUTBOX].count_documents({}) == 0:
            return
        time.sleep(0.1)
    raise AssertionError("the outbox was not handled within 15 s")


def test_an_unverified_address_is_never_used_for_a_reset(
    app: Flask, client: FlaskClient, mails: MailCatcher, db: Db
) -> None:
    address = _address()
    register(client, "leo", email=address)
    mails.wait_for(address)  # the verification mail, not followed
    for identifier in ("leo", address):
        assert (
            client.post("/auth/password-reset", json={"identifier": identifier}).status_code == 202
        )
    _settled(app, db)
    assert [sent["Subject"] for sent in mails.inbox(address)] == ["Confirm your e-mail address"]


def test_a_disabled_account_gets_no_reset_mail(
    app: Flask, client: FlaskClient, mails: MailCatcher, db: Db
) -> None:
    address = _verified(client, mails, "mia")
    db["users"].update_one({"username_key": "mia"}, {"$set": {"disabled": True}})
    assert client.post("/auth/password-reset", json={"identifier": address}).status_code == 202
    _settled(app, db)
    assert len(mails.inbox(address)) == 1  # the verification mail only


def test_reset_requests_are_limited_per_address(
    make_recovery_app: Callable[..., Flask],
) -> None:
    client = make_recovery_app(PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS="2 per minute").test_client()
    answers = [
        client.post("/auth/password-reset", json={"identifier": f"someone-{n}"}).status_code
        for n in range(3)
    ]
    assert answers == [202, 202, 429]


def test_one_mail_budget_per_account_whatever_name_the_requests_use(
    make_recovery_app: Callable[..., Flask], mails: MailCatcher, db: Db
) -> None:
    """Third audit, 5: the username, the address (in any case) and the account id spend one
    budget; from any client address."""
    app = make_recovery_app(MAIL_RATE_LIMIT_PER_ACCOUNT="3 per hour", TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    address = _verified(client, mails, "victor")  # the verification mail: 1 of 3
    for n, identifier in enumerate(["victor", address, address.upper(), "VICTOR", address]):
        answer = client.post(
            "/auth/password-reset",
            json={"identifier": identifier},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert answer.status_code == 202, answer.json  # the same answer, budget or not
    _settled(app, db)
    assert [sent["Subject"] for sent in mails.inbox(address)] == [
        "Reset your password",
        "Reset your password",
        "Confirm your e-mail address",
    ]


def test_changing_the_address_spends_the_same_mail_budget(
    make_recovery_app: Callable[..., Flask], mails: MailCatcher, db: Db
) -> None:
    """Third audit, 3: PATCH /auth/me mails a link, so it spends the account's budget."""
    app = make_recovery_app(MAIL_RATE_LIMIT_PER_ACCOUNT="2 per hour")
    client = app.test_client()
    first, second, third = _address(), _address(), _address()
    register(client, "wendy", email=first)  # 1 of 2
    headers = bearer(login(client, "wendy")["access_token"])
    assert (
        client.patch(
            "/auth/me", json={"email": second, "password": PASSWORD}, headers=headers
        ).status_code
        == 200
    )
    refused = client.patch("/auth/me", json={"email": third, "password": PASSWORD}, headers=headers)
    assert (refused.status_code, refused.json["code"]) == (429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/auth/me", headers=headers).json["email"] == second  # nothing changed
    again = client.post("/auth/me/email/verification", headers=headers)  # the resend too
    assert (again.status_code, again.json["code"]) == (429, "rate_limited")
    _settled(app, db)
    assert [len(mails.inbox(address)) for address in (first, second, third)] == [1, 1, 0]


def test_the_same_address_again_sends_nothing_and_spends_nothing(
    make_recovery_app: Callable[..., Flask], mails: MailCatcher, db: Db
) -> None:
    app = make_recovery_app(MAIL_RATE_LIMIT_PER_ACCOUNT="2 per hour")
    client = app.test_client()
    address = _address()
    register(client, "xena", email=address)
    headers = bearer(login(client, "xena")["access_token"])
    for _ in range(3):
        same = client.patch(
            "/auth/me", json={"email": address, "password": PASSWORD}, headers=headers
        )
        assert (same.status_code, same.json["email"]) == (200, address)
    assert client.post("/auth/me/email/verification", headers=headers).status_code == 202
    _settled(app, db)
    assert len(mails.inbox(address)) == 2  # registration and the resend only


@pytest.mark.parametrize("new_address", ["other", None])
def test_changing_or_removing_the_address_voids_the_reset_links_sent_to_it(
    client: FlaskClient, mails: MailCatcher, new_address: str | None
) -> None:
    """Third audit, 4: a link mailed to an address is bound to it."""
    address = _verified(client, mails, "yara")
    link = _reset_link(client, mails, "yara", address)
    headers = bearer(login(client, "yara")["access_token"])
    changed = client.patch(
        "/auth/me",
        json={"email": _address() if new_address else None, "password": PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200
    checked = client.get(_path(link))
    assert (checked.status_code, checked.json["code"]) == (400, "invalid_token")
    used = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": NEW_PASSWORD}
    )
    assert (used.status_code, used.json["code"]) == (400, "invalid_token")
    assert login(client, "yara")["access_token"]  # the password did not change


def test_issuing_links_concurrently_leaves_only_one_that_works(
    app: Flask, client: FlaskClient
) -> None:
    """Third audit, 6: "only the newest link works" holds under concurrency."""
    user = register(client, "zack")
    issuers = 6
    for _ in range(10):
        barrier = threading.Barrier(issuers)
        issued: list[str] = []

        def issue(barrier: threading.Barrier = barrier, issued: list[str] = issued) -> None:
            with app.app_context():
                barrier.wait()
                issued.append(
                    recovery_tokens.issue(
                        purpose=RESET,
                        user_id=ObjectId(user["id"]),
                        binding="b",
                        ttl=timedelta(minutes=5),
                    )
                )

        threads = [threading.Thread(target=issue) for _ in range(issuers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app.app_context():
            working = [t for t in issued if recovery_tokens.peek(purpose=RESET, token=t)]
        assert len(working) == 1, f"{len(working)} of {issuers} concurrent links work"


def test_checking_a_reset_link_applies_the_rules_its_use_applies(
    client: FlaskClient, mails: MailCatcher, db: Db
) -> None:
    """Third audit, 7: GET says valid only when POST would accept the link."""
    address = _verified(client, mails, "abel")
    link = _reset_link(client, mails, "abel", address)
    fresh = login(client, "abel")["access_token"]
    assert (
        client.post(
            "/auth/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(fresh),
        ).status_code
        == 204
    )
    checked = client.get(_path(link))
    assert (checked.status_code, checked.json["code"]) == (400, "invalid_token")

    address = _verified(client, mails, "beth")
    link = _reset_link(client, mails, "beth", address)
    db["users"].update_one({"username_key": "beth"}, {"$set": {"disabled": True}})
    checked = client.get(_path(link))
    assert (checked.status_code, checked.json["code"]) == (400, "invalid_token")


def test_no_verification_mail_and_no_verification_for_a_disabled_account(
    make_recovery_app: Callable[..., Flask], mails: MailCatcher, db: Db
) -> None:
    """Third audit, 8: neither rendered nor honoured for a disabled or deleting account."""
    quiet = make_recovery_app()
    mail.outbox(quiet).stop()  # this app records the mail; another one sends it
    client = quiet.test_client()
    address = _address()
    register(client, "cleo", email=address)
    db["users"].update_one({"username_key": "cleo"}, {"$set": {"disabled": True}})
    _settled(make_recovery_app(), db)
    assert mails.inbox(address) == []

    address = _address()
    register(client, "dora", email=address)
    _settled(make_recovery_app(), db)
    [sent] = mails.wait_for(address)
    for flag in ({"disabled": True}, {"deleting": True}):
        db["users"].update_one({"username_key": "dora"}, {"$set": flag})
        answer = client.get(_path(mails.link(sent)))
        assert (answer.status_code, answer.json["code"]) == (400, "invalid_token")
        db["users"].update_one(
            {"username_key": "dora"}, {"$set": {"disabled": False}, "$unset": {"deleting": ""}}
        )
    stored = db["users"].find_one({"username_key": "dora"})
    assert stored is not None
    assert stored["email_verified_at"] is None


def test_a_mail_server_that_is_down_delays_the_mail_not_the_request(
    make_recovery_app: Callable[..., Flask], mails: MailCatcher, db: Db
) -> None:
    app = make_recovery_app(MAIL_PORT=1)  # nothing listens there
    client = app.test_client()
    address = _address()
    assert (
        client.post(
            "/auth/register", json={"username": "nora", "password": PASSWORD, "email": address}
        ).status_code
        == 201
    )
    for _ in range(100):  # the sender tried, failed, and keeps the message for later
        entry = db[OUTBOX].find_one({"kind": "verify_email"})
        if entry and entry["attempts"] >= 1:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no failed attempt was recorded")
    app.config["MAIL_PORT"] = mails.smtp_port  # the server is back
    [sent] = mails.wait_for(address, within=20)
    assert sent["Subject"] == "Confirm your e-mail address"


def test_the_verification_link_can_be_sent_again(client: FlaskClient, mails: MailCatcher) -> None:
    address = _address()
    register(client, "olga", email=address)
    token = login(client, "olga")["access_token"]
    first = mails.wait_for(address)[0]
    again = client.post("/auth/me/email/verification", headers=bearer(token))
    assert again.status_code == 202
    second = mails.wait_for(address, count=2)[0]
    assert client.get(_path(mails.link(first))).status_code == 400  # replaced
    assert client.get(_path(mails.link(second))).status_code == 200
    done = client.post("/auth/me/email/verification", headers=bearer(token))
    assert (done.status_code, done.json["code"]) == (409, "already_verified")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/auth/password-reset", {"identifier": "x"}),
        ("GET", "/auth/password-reset/confirm?token=x", None),
        ("POST", "/auth/password-reset/confirm", {"token": "x", "new_password": NEW_PASSWORD}),
        ("GET", "/auth/email/verify?token=x", None),
    ],
)
def test_recovery_switched_off_is_404(
    make_recovery_app: Callable[..., Flask], method: str, path: str, body: Any
) -> None:
    client = make_recovery_app(ACCOUNT_RECOVERY_ENABLED=False).test_client()
    answer = client.open(path, method=method, json=body)
    assert (answer.status_code, answer.json["code"]) == (404, "not_enabled")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"identifier": ""},
        {"identifier": "x" * 300},
        {"identifier": 42},
        {"identifier": "a", "extra": 1},
    ],
)
def test_a_malformed_reset_request_is_422(client: FlaskClient, body: Any) -> None:
    answer = client.post("/auth/password-reset", json=body)
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"


def test_a_weak_new_password_is_refused_before_the_token_is_spent(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _verified(client, mails, "pia")
    link = _reset_link(client, mails, "pia", address)
    weak = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": "password"}
    )
    assert weak.status_code == 422
    assert client.get(_path(link)).status_code == 200  # still usable


def test_a_verified_address_and_a_reset_are_in_the_security_log(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _verified(client, mails, "gwen")
    link = _reset_link(client, mails, address, address)
    done = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.json
    token = login(client, "gwen", NEW_PASSWORD)["access_token"]

    log = client.get("/auth/me/security-events", headers=bearer(token))

    assert log.status_code == 200
    assert [each["type"] for each in log.json] == ["sign_in", "password_reset", "email_verified"]
    assert {each["actor"] for each in log.json} == {"account"}
    assert [each["session"] for each in log.json[1:]] == [None, None]


def test_a_password_reset_leaves_two_factor_sign_in_on(
    client: FlaskClient, mails: MailCatcher
) -> None:
    address = _verified(client, mails, "hana")
    tokens = login(client, "hana")
    secret = client.post("/auth/me/mfa/totp", headers=bearer(tokens["access_token"])).json["secret"]
    confirmed = client.post(
        "/auth/me/mfa/totp/confirm",
        json={"code": pyotp.TOTP(secret).now()},
        headers=bearer(tokens["access_token"]),
    )
    assert confirmed.status_code == 200, confirmed.json
    link = _reset_link(client, mails, address, address)
    done = client.post(
        "/auth/password-reset/confirm", json={"token": _token(link), "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.json

    answer = client.post("/auth/login", json={"username": "hana", "password": NEW_PASSWORD})

    assert answer.status_code == 202, answer.json
    assert answer.json["mfa_required"] is True
