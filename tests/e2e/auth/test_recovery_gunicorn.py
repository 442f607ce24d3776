"""Account recovery end to end: auth in production configuration under gunicorn, its mail
through a real SMTP server (Mailpit), read and followed as a user would."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from tests.support.accounts import Account, LiveHttp, new_password
from tests.support.devdb import free_port
from tests.support.gunicorn import GunicornServer
from tests.support.mailcatcher import MailCatcher
from tests.support.services import auth_server, start_auth

pytestmark = pytest.mark.gunicorn


#: Reset links that expire fast enough for a test to see it (production: 30 minutes).
RESET_TTL_SECONDS = 3


@pytest.fixture
def auth(
    mongo_uri: str, db_name: str, tmp_path: Path, mails: MailCatcher
) -> Iterator[GunicornServer]:
    port = free_port()
    server = start_auth(
        mongo_uri=mongo_uri,
        db_name=db_name,
        directory=tmp_path / "auth",
        port=port,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        PASSWORD_RESET_TTL_SECONDS=RESET_TTL_SECONDS,
        **mails.settings(),
    )
    yield server
    server.stop()


def _verified_account(auth: GunicornServer, mails: MailCatcher) -> tuple[Account, str]:
    address = f"{uuid.uuid4().hex[:12]}@example.org"
    account = Account(LiveHttp(auth.url)).register(email=address).login()
    [verification] = mails.wait_for(address)
    assert requests.get(mails.link(verification), timeout=10).status_code == 200
    return account, address


def test_a_user_verifies_the_address_then_resets_a_forgotten_password(
    auth: GunicornServer, mails: MailCatcher
) -> None:
    address = f"{uuid.uuid4().hex[:12]}@example.org"
    account = Account(LiveHttp(auth.url)).register(email=address).login()

    # The verification mail's link, followed as a browser would (a plain GET).
    [verification] = mails.wait_for(address)
    verified = requests.get(mails.link(verification), timeout=10)
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": address, "email_verified": True}
    me = requests.get(f"{auth.url}/auth/me", headers=account.headers(), timeout=10)
    assert me.json()["email_verified"] is True

    # Forgotten: ask for a link by address, read it, check it, set a new password.
    asked = requests.post(
        f"{auth.url}/auth/password-reset", json={"identifier": address.upper()}, timeout=10
    )
    assert asked.status_code == 202
    reset = mails.wait_for(address, count=2)[0]
    assert reset["Subject"] == "Reset your password"
    link = mails.link(reset)
    assert link.startswith(f"{auth.url}/auth/password-reset/confirm?token=")
    assert requests.get(link, timeout=10).json()["valid"] is True
    token = parse_qs(urlsplit(link).query)["token"][0]
    password = new_password()
    done = requests.post(
        f"{auth.url}/auth/password-reset/confirm",
        json={"token": token, "new_password": password},
        timeout=10,
    )
    assert done.status_code == 204, done.text

    # The new password works, the old one and every earlier session do not.
    assert Account(LiveHttp(auth.url), account.username, password).login().access_token
    old = requests.post(
        f"{auth.url}/auth/login",
        json={"username": account.username, "password": account.password},
        timeout=10,
    )
    assert old.status_code == 401
    stale = requests.post(
        f"{auth.url}/auth/refresh", headers=account.headers(account.refresh_token), timeout=10
    )
    assert stale.status_code == 401
    again = requests.post(
        f"{auth.url}/auth/password-reset/confirm",
        json={"token": token, "new_password": new_password()},
        timeout=10,
    )
    assert (again.status_code, again.json()["code"]) == (400, "invalid_token")


def test_production_refuses_to_start_recovery_without_a_mail_server(
    mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    refused = auth_server(
        mongo_uri=mongo_uri, db_name=db_name, directory=tmp_path / "auth", MAIL_SERVER=""
    )
    with pytest.raises(RuntimeError, match="exited"):
        refused.start(timeout=20)
    assert refused.log_path is not None
    assert "MAIL_SERVER must name the SMTP server" in refused.log_path.read_text()


def test_every_identifier_gets_the_same_answer_until_the_address_limit(
    auth: GunicornServer, mails: MailCatcher
) -> None:
    account, address = _verified_account(auth, mails)
    identifiers = [account.username, address, "nobody-at-all", "nobody@example.org", "x"]
    answers = [
        requests.post(f"{auth.url}/auth/password-reset", json={"identifier": i}, timeout=10)
        for i in identifiers
    ]
    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    # Production's limit per address: 5 a minute.
    limited = requests.post(
        f"{auth.url}/auth/password-reset", json={"identifier": address}, timeout=10
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0


def test_a_reset_link_expires_and_one_from_before_a_password_change_is_void(
    auth: GunicornServer, mails: MailCatcher
) -> None:
    account, address = _verified_account(auth, mails)

    def reset_link(count: int) -> str:
        asked = requests.post(
            f"{auth.url}/auth/password-reset", json={"identifier": address}, timeout=10
        )
        assert asked.status_code == 202
        return mails.link(mails.wait_for(address, count=count)[0])

    expiring = reset_link(2)
    time.sleep(RESET_TTL_SECONDS + 0.5)
    expired = requests.get(expiring, timeout=10)
    assert (expired.status_code, expired.json()["code"]) == (400, "invalid_token")

    before_change = reset_link(3)
    changed = requests.post(
        f"{auth.url}/auth/me/password",
        json={"current_password": account.password, "new_password": new_password()},
        headers=account.headers(),  # a fresh token: from the login above
        timeout=10,
    )
    assert changed.status_code == 204, changed.text
    token = parse_qs(urlsplit(before_change).query)["token"][0]
    void = requests.post(
        f"{auth.url}/auth/password-reset/confirm",
        json={"token": token, "new_password": new_password()},
        timeout=10,
    )
    assert (void.status_code, void.json()["code"]) == (400, "invalid_token")
