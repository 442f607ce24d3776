"""End to end: auth and todo as production gunicorn processes on the dev database, over loopback.

register -> login -> create/list/update/delete todos -> refresh -> logout -> the tokens are
refused by both services; and two users who cannot see or touch each other's todos.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from bson import ObjectId
from pymongo import MongoClient
from tests.support.accounts import Account, registered
from tests.support.gunicorn import GunicornServer
from tests.support.problems import assert_problem
from tests.support.services import auth_and_todo
from tests.support.waiting import eventually

pytestmark = pytest.mark.gunicorn

#: todo polls the revocation feed every second; a logout must reach it well within this.
REVOCATION_BOUND_SECONDS = 10.0


@dataclass
class Stack:
    auth: GunicornServer
    todo: GunicornServer
    todo_db: str

    def todos(self, account: Account, token: str | None = None, **kwargs: Any) -> Any:
        return requests.get(
            f"{self.todo.url}/todos", headers=account.headers(token), timeout=10, **kwargs
        )

    def todo_url(self, todo: dict[str, Any]) -> str:
        return f"{self.todo.url}/todos/{todo['id']}"


@pytest.fixture
def stack(
    mongo_uri: str, db_name: str, mongo_client: MongoClient[dict[str, object]], tmp_path: Path
) -> Iterator[Stack]:
    """Both services in production configuration, each on a database of its own."""
    names = f"{db_name}_auth", f"{db_name}_todo"
    with auth_and_todo(mongo_client, mongo_uri=mongo_uri, directory=tmp_path, db_names=names) as (
        auth,
        todo,
    ):
        yield Stack(auth, todo, names[1])


def test_a_user_s_whole_session(stack: Stack) -> None:
    alice = registered(stack.auth.url)
    reads_the_account(stack, alice)
    todo, etag = creates_a_todo(stack, alice)
    lists_and_reads_it(stack, alice, todo, etag)
    etag = updates_it_with_if_match_only(stack, alice, todo, etag)
    deletes_it(stack, alice, todo, etag)
    spent_access_token = refreshes_the_session(stack, alice)
    logs_out_and_is_refused_by_both_services(stack, alice, spent_access_token)
    # Logging in again starts a new session that both services accept.
    alice.login()
    assert stack.todos(alice).status_code == 200


def reads_the_account(stack: Stack, alice: Account) -> None:
    me = requests.get(f"{stack.auth.url}/auth/me", headers=alice.headers(), timeout=10)
    assert me.status_code == 200
    assert me.json()["username"] == alice.username
    assert "password_hash" not in me.text


def creates_a_todo(stack: Stack, alice: Account) -> tuple[dict[str, Any], str]:
    created = requests.post(
        f"{stack.todo.url}/todos",
        json={"title": "Water the plants", "tags": ["home"]},
        headers=alice.headers(),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    todo: dict[str, Any] = created.json()
    assert todo["title"] == "Water the plants"
    assert todo["done"] is False
    assert created.headers["Location"].endswith(f"/todos/{todo['id']}")
    return todo, created.headers["ETag"]


def lists_and_reads_it(stack: Stack, alice: Account, todo: dict[str, Any], etag: str) -> None:
    listed = stack.todos(alice)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [todo["id"]]
    read = requests.get(stack.todo_url(todo), headers=alice.headers(), timeout=10)
    assert read.status_code == 200
    assert read.json() == todo
    assert read.headers["ETag"] == etag


def updates_it_with_if_match_only(
    stack: Stack, alice: Account, todo: dict[str, Any], etag: str
) -> str:
    """If-Match is required, and a stale one is refused; returns the new ETag."""
    url = stack.todo_url(todo)
    assert_problem(
        requests.patch(url, json={"done": True}, headers=alice.headers(), timeout=10), 428
    )
    updated = requests.patch(
        url, json={"done": True}, headers={**alice.headers(), "If-Match": etag}, timeout=10
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["done"] is True
    assert updated.headers["ETag"] != etag
    stale = requests.patch(
        url, json={"title": "late"}, headers={**alice.headers(), "If-Match": etag}, timeout=10
    )
    assert_problem(stale, 412)
    after = requests.get(url, headers=alice.headers(), timeout=10).json()
    assert after["title"] == "Water the plants"
    return str(updated.headers["ETag"])


def deletes_it(stack: Stack, alice: Account, todo: dict[str, Any], etag: str) -> None:
    url = stack.todo_url(todo)
    deleted = requests.delete(url, headers={**alice.headers(), "If-Match": etag}, timeout=10)
    assert deleted.status_code == 204, deleted.text
    assert_problem(requests.get(url, headers=alice.headers(), timeout=10), 404)
    assert stack.todos(alice).json() == []


def refreshes_the_session(stack: Stack, alice: Account) -> str:
    """A new pair whose access token works at todo; returns the access token it replaced."""
    first_access, first_refresh = alice.access_token, alice.refresh_token
    refreshed = requests.post(
        f"{stack.auth.url}/auth/refresh", headers=alice.headers(first_refresh), timeout=10
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.headers["Cache-Control"].startswith("no-store")
    pair = refreshed.json()
    assert pair["access_token"] != first_access
    assert pair["refresh_token"] != first_refresh
    alice.access_token, alice.refresh_token = pair["access_token"], pair["refresh_token"]
    assert stack.todos(alice).status_code == 200
    return first_access


def logs_out_and_is_refused_by_both_services(
    stack: Stack, alice: Account, earlier_access_token: str
) -> None:
    """Every token of the session: refused by auth at once, by todo within the bound."""
    logout = requests.post(f"{stack.auth.url}/auth/logout", headers=alice.headers(), timeout=10)
    assert logout.status_code == 204, logout.text
    for token in (alice.access_token, earlier_access_token):
        refused = requests.get(
            f"{stack.auth.url}/auth/me", headers=alice.headers(token), timeout=10
        )
        assert_problem(refused, 401)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        at_todo = eventually(
            lambda token=token: stack.todos(alice, token),
            lambda response: response.status_code == 401,
            within=REVOCATION_BOUND_SECONDS,
        )
        assert_problem(at_todo, 401, "token_revoked")
        assert at_todo.headers["WWW-Authenticate"].startswith("Bearer")
    refresh = requests.post(
        f"{stack.auth.url}/auth/refresh", headers=alice.headers(alice.refresh_token), timeout=10
    )
    assert_problem(refresh, 401)


def test_two_users_cannot_see_or_touch_each_other_s_todos(stack: Stack) -> None:
    alice, bob = registered(stack.auth.url), registered(stack.auth.url)
    assert alice.user_id != bob.user_id

    def create(account: Account, title: str) -> tuple[dict[str, Any], str]:
        response = requests.post(
            f"{stack.todo.url}/todos", json={"title": title}, headers=account.headers(), timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json(), response.headers["ETag"]

    alices, alices_etag = create(alice, "alice's secret")
    bobs, _ = create(bob, "bob's list")

    assert [item["id"] for item in stack.todos(alice).json()] == [alices["id"]]
    assert [item["id"] for item in stack.todos(bob).json()] == [bobs["id"]]
    assert [item["id"] for item in stack.todos(bob, params={"q": "secret"}).json()] == []

    url = f"{stack.todo.url}/todos/{alices['id']}"
    unknown = f"{stack.todo.url}/todos/{ObjectId()}"
    bob_if_match = {**bob.headers(), "If-Match": alices_etag}
    attempts = {
        "read": requests.get(url, headers=bob.headers(), timeout=10),
        "update": requests.patch(url, json={"title": "mine"}, headers=bob_if_match, timeout=10),
        "replace": requests.put(url, json={"title": "mine"}, headers=bob_if_match, timeout=10),
        "delete": requests.delete(url, headers=bob.headers(), timeout=10),
    }
    for_unknown = requests.get(unknown, headers=bob.headers(), timeout=10)
    assert_problem(for_unknown, 404)
    for action, response in attempts.items():
        assert_problem(response, 404)
        # The same answer as for an id that does not exist: no oracle for other users' ids.
        assert response.json()["code"] == for_unknown.json()["code"], action
        assert response.json()["detail"] == for_unknown.json()["detail"], action

    untouched = requests.get(url, headers=alice.headers(), timeout=10)
    assert untouched.status_code == 200
    assert untouched.json() == alices
    assert untouched.headers["ETag"] == alices_etag

    # Bob logging out changes nothing for Alice.
    assert (
        requests.post(
            f"{stack.auth.url}/auth/logout", headers=bob.headers(), timeout=10
        ).status_code
        == 204
    )
    refused = eventually(
        lambda: stack.todos(bob),
        lambda response: response.status_code == 401,
        within=REVOCATION_BOUND_SECONDS,
    )
    assert_problem(refused, 401, "token_revoked")
    assert stack.todos(alice).status_code == 200


def test_a_session_ended_from_another_device_is_refused_by_todo(stack: Stack) -> None:
    """The laptop ends the phone's session: the phone's tokens stop working at auth at once and
    at todo within the revocation bound; the laptop's keep working."""
    laptop = registered(stack.auth.url)
    phone = Account(laptop.http, laptop.username, laptop.password).login()
    assert stack.todos(phone).status_code == 200
    listed = requests.get(
        f"{stack.auth.url}/auth/me/sessions", headers=laptop.headers(), timeout=10
    )
    assert listed.status_code == 200, listed.text
    assert [each["current"] for each in listed.json()] == [False, True]
    phones = listed.json()[0]["id"]

    ended = requests.delete(
        f"{stack.auth.url}/auth/me/sessions/{phones}", headers=laptop.headers(), timeout=10
    )

    assert ended.status_code == 204, ended.text
    assert_problem(
        requests.get(f"{stack.auth.url}/auth/me", headers=phone.headers(), timeout=10),
        401,
        "token_revoked",
    )
    refused = eventually(
        lambda: stack.todos(phone),
        lambda response: response.status_code == 401,
        within=REVOCATION_BOUND_SECONDS,
    )
    assert_problem(refused, 401, "token_revoked")
    assert stack.todos(laptop).status_code == 200
    left = requests.get(f"{stack.auth.url}/auth/me/sessions", headers=laptop.headers(), timeout=10)
    assert [each["current"] for each in left.json()] == [True]


def test_two_factor_sign_in_and_the_security_log_under_gunicorn(stack: Stack) -> None:
    """Enrol an authenticator, sign in with a code, and read it all in the security log."""
    alice = registered(stack.auth.url)
    auth = f"{stack.auth.url}/auth"
    enrolled = requests.post(f"{auth}/me/mfa/totp", headers=alice.headers(), timeout=10)
    assert enrolled.status_code == 201, enrolled.text
    totp = pyotp.TOTP(enrolled.json()["secret"])
    confirmed = requests.post(
        f"{auth}/me/mfa/totp/confirm",
        json={"code": totp.now()},
        headers=alice.headers(),
        timeout=10,
    )
    assert confirmed.status_code == 200, confirmed.text
    [recovery_code, *_others] = confirmed.json()["recovery_codes"]

    credentials = {"username": alice.username, "password": alice.password}
    asked = requests.post(f"{auth}/login", json=credentials, timeout=10)
    assert asked.status_code == 202, asked.text
    signed_in = requests.post(
        f"{auth}/login/mfa",
        json={"challenge": asked.json()["challenge"], "code": recovery_code},
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    assert stack.todos(alice, token).status_code == 200  # todo takes the token like any other

    log = requests.get(f"{auth}/me/security-events", headers=alice.headers(token), timeout=10)
    assert log.status_code == 200, log.text
    assert [each["type"] for each in log.json()] == [
        "sign_in",
        "recovery_code_used",
        "mfa_enabled",
        "sign_in",
    ]
    assert log.json()[0]["methods"] == ["pwd", "otp"]
    assert log.json()[0]["address"] == "127.0.0.0/24"
    assert log.json()[0]["client"] == "Python Requests"


#: What the README promises: an account's data is erased at todo within this, both services up.
ERASURE_BOUND_SECONDS = 10.0


def test_deleting_an_account_erases_its_todos_at_todo(
    stack: Stack, mongo_client: MongoClient[dict[str, object]]
) -> None:
    alice, bob = registered(stack.auth.url), registered(stack.auth.url)
    for account in (alice, bob):
        for title in ("one", "two"):
            created = requests.post(
                f"{stack.todo.url}/todos",
                json={"title": title},
                headers=account.headers(),
                timeout=10,
            )
            assert created.status_code == 201, created.text
    todos = mongo_client[stack.todo_db]["todos"]
    assert todos.count_documents({"owner": alice.user_id}) == 2

    deleted = requests.delete(
        f"{stack.auth.url}/auth/me",
        json={"password": alice.password},
        headers=alice.headers(),
        timeout=10,
    )
    assert deleted.status_code == 204, deleted.text
    started = time.monotonic()
    while todos.count_documents({"owner": alice.user_id}) and (
        time.monotonic() - started < ERASURE_BOUND_SECONDS
    ):
        time.sleep(0.2)
    assert todos.count_documents({"owner": alice.user_id}) == 0, "not erased within the bound"
    assert todos.count_documents({"owner": bob.user_id}) == 2
    assert [todo["title"] for todo in stack.todos(bob).json()] == ["one", "two"]
