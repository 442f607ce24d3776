"""make scale-test's load, run by Locust (headless) against the balancer.

``Journeys``: each simulated user registers an account (with an address: a verification
mail), logs in, creates todos with an Idempotency-Key (and sends each once more, which must
replay), lists them, updates them with If-Match, refreshes its tokens, logs out, and every
second account is deleted. Every request that fails in a way the API calls retryable
(a connection error, 502, 503, 504, 409 "in progress") is retried as a client should; any other
answer is "unexpected". What was acknowledged goes to a journal (JSON lines, SCALE_JOURNAL)
that tests/scale/checks.py reads with the databases afterwards.

``Readers``: list and read todos only, to measure todo's throughput.

Environment: SCALE_JOURNAL, SCALE_SUMMARY (files to write), SCALE_TODO_URL (todo's balancer);
``--host`` is auth's.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from typing import Any

from locust import FastHttpUser, events, task
from locust.env import Environment

PASSWORD = "scale test password 42"
RETRYABLE = frozenset({0, 502, 503, 504})
#: How long one operation keeps retrying (a database restart, an instance starting again).
GIVE_UP_AFTER = 60.0
TODOS_PER_JOURNEY = 3

_lock = threading.Lock()
_statuses: Counter[str] = Counter()
_todo_answers_per_second: Counter[int] = Counter()
_journal: Any = None


@events.test_start.add_listener
def _open_journal(environment: Environment, **_kwargs: Any) -> None:
    global _journal  # noqa: PLW0603 (one journal per Locust process)
    _journal = open(os.environ["SCALE_JOURNAL"], "a", buffering=1)  # noqa: SIM115


@events.test_stop.add_listener
def _write_summary(environment: Environment, **_kwargs: Any) -> None:
    summary = {
        "statuses": dict(_statuses),
        "todo_answers_per_second": {str(k): v for k, v in sorted(_todo_answers_per_second.items())},
    }
    with open(os.environ["SCALE_SUMMARY"], "w") as out:
        json.dump(summary, out, indent=1)
    if _journal is not None:
        _journal.close()


def journal(kind: str, **fields: Any) -> None:
    _journal.write(json.dumps({"kind": kind, "at": time.time(), **fields}) + "\n")


class Client(FastHttpUser):
    """A client that retries what the API calls retryable and journals what it saw."""

    abstract = True
    todo_url = os.environ.get("SCALE_TODO_URL", "")

    def call(
        self,
        method: str,
        url: str,
        name: str,
        *,
        done: tuple[int, ...],
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        after_retry: tuple[int, ...] = (),
        retry_on: tuple[int, ...] = (),
    ) -> tuple[int, Any, dict[str, str], bool]:
        """(status, body, headers (lower-case names), retried): retried until a status in
        ``done`` (or in ``after_retry`` once an attempt failed retryably: the first may have
        taken effect)."""
        deadline = time.monotonic() + GIVE_UP_AFTER
        retried = False
        while True:
            with self.client.request(
                method, url, name=name, json=json_body, headers=headers, catch_response=True
            ) as answer:
                status = answer.status_code or 0
                with _lock:
                    _statuses[f"{name} {status}"] += 1
                    if url.startswith(self.todo_url) and status in (200, 201):
                        _todo_answers_per_second[int(time.time())] += 1
                headers_seen = {
                    name.lower(): value for name, value in (answer.headers or {}).items()
                }
                if status in done or (retried and status in after_retry):
                    answer.success()
                    return status, _body(answer), headers_seen, retried
                if (status in RETRYABLE or status in retry_on) and time.monotonic() < deadline:
                    answer.failure(f"retryable {status}")
                    error = repr(answer.error)[:200] if not status else None
                    journal("retried", name=name, status=status, error=error)
                    retried = True
                    wait = headers_seen.get("retry-after")
                    time.sleep(min(float(wait or 0.5), 2.0))
                    continue
                answer.failure(f"unexpected {status}")
                journal("unexpected", name=name, status=status, body=(answer.text or "")[:300])
                return status, _body(answer), headers_seen, retried

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _body(answer: Any) -> Any:
    try:
        return answer.json() if answer.text else None
    except ValueError:
        return None


class Journeys(Client):
    @task
    def journey(self) -> None:
        try:
            self.one_journey()
        except Exception as error:  # a bug of the load, or an answer it cannot read: fail
            journal("crashed", error=repr(error))
            raise

    def one_journey(self) -> None:
        username = f"scale_{uuid.uuid4().hex[:12]}"
        email = f"{username}@example.org"
        status, _, _, _ = self.call(
            "POST",
            "/auth/register",
            "auth: register",
            done=(201,),
            after_retry=(409,),
            json_body={"username": username, "password": PASSWORD, "email": email},
        )
        if status not in (201, 409):
            return
        tokens = self.login(username)
        if tokens is None:
            return
        _, me, _, _ = self.call(
            "GET", "/auth/me", "auth: me", done=(200,), headers=self.bearer(tokens["access"])
        )
        user_id = me["id"]
        journal("account", user_id=user_id, username=username, email=email)

        created: dict[str, str] = {}
        for number in range(TODOS_PER_JOURNEY):
            todo = self.create(tokens["access"], user_id, f"{username} todo {number}")
            if todo is None:
                return
            created[todo] = f"{username} todo {number}"
            if not self.listed(tokens["access"], user_id, set(created)):
                return
        for todo_id, title in created.items():
            if not self.update(tokens["access"], todo_id, f"{title} updated"):
                return
        refreshed = self.refresh(tokens["refresh"])
        if refreshed is None:
            return
        status, _, _, _ = self.call(
            "POST",
            "/auth/logout",
            "auth: logout",
            done=(204,),
            after_retry=(401,),  # the first attempt logged out: this token is revoked
            headers=self.bearer(refreshed["access"]),
        )
        if status not in (204, 401):
            return
        journal("revoked", user_id=user_id, token=refreshed["access"])
        if int(username[-1], 16) % 2:  # every second account is kept
            journal("kept", user_id=user_id)
            return
        self.delete_account(user_id, username, email)

    def delete_account(self, user_id: str, username: str, email: str) -> None:
        for _attempt in range(3):
            fresh = self.login(username)
            if fresh is None:
                return
            status, _, _, _ = self.call(
                "DELETE",
                "/auth/me",
                "auth: delete account",
                done=(204,),
                # The first attempt revoked the token, and maybe deleted the account.
                after_retry=(401,),
                json_body={"password": PASSWORD},
                headers=self.bearer(fresh["access"]),
            )
            if status == 204:
                journal("erased", user_id=user_id, token=fresh["access"], email=email)
                return
            if status != 401:
                return
            # Gone, or only its tokens revoked (the attempt that answered 503 had revoked
            # them): a login tells, and a new token retries the deletion.
            gone, _, _, _ = self.call(
                "POST",
                "/auth/login",
                "auth: login after a deletion",
                done=(200, 401),
                json_body={"username": username, "password": PASSWORD},
            )
            if gone == 401:
                journal("erased", user_id=user_id, token=fresh["access"], email=email)
                return
            journal("deletion_retry_refused", user_id=user_id)

    def login(self, username: str) -> dict[str, str] | None:
        status, body, _, _ = self.call(
            "POST",
            "/auth/login",
            "auth: login",
            done=(200,),
            json_body={"username": username, "password": PASSWORD},
        )
        if status != 200:
            return None
        return {"access": body["access_token"], "refresh": body["refresh_token"]}

    def refresh(self, token: str) -> dict[str, str] | None:
        status, body, _, _ = self.call(
            "POST", "/auth/refresh", "auth: refresh", done=(200,), headers=self.bearer(token)
        )
        if status != 200:
            return None
        return {"access": body["access_token"], "refresh": body["refresh_token"]}

    def create(self, token: str, user_id: str, title: str) -> str | None:
        key = str(uuid.uuid4())
        headers = {**self.bearer(token), "Idempotency-Key": key}
        url, body = f"{self.todo_url}/todos", {"title": title}
        # 409: an earlier attempt with this key is still in progress (its lease holds).
        status, created, _, retried = self.call(
            "POST",
            url,
            "todo: create",
            done=(201,),
            retry_on=(409,),
            json_body=body,
            headers=headers,
        )
        if status != 201:
            return None
        todo_id: str = created["id"]
        journal("created", user_id=user_id, todo_id=todo_id, key=key, title=title, retried=retried)
        # The same request again, as a client whose answer was lost would: the first answer.
        status, again, replay_headers, _ = self.call(
            "POST", url, "todo: create again", done=(201,), json_body=body, headers=headers
        )
        if status == 201 and (
            again["id"] != todo_id or replay_headers.get("idempotent-replayed") != "true"
        ):
            journal("replay_mismatch", todo_id=todo_id, again=again["id"], key=key)
        return todo_id

    def listed(self, token: str, user_id: str, expected: set[str]) -> bool:
        status, body, _, _ = self.call(
            "GET", f"{self.todo_url}/todos", "todo: list", done=(200,), headers=self.bearer(token)
        )
        if status != 200:
            return False
        missing = expected - {todo["id"] for todo in body}
        if missing:
            journal("missing_in_list", user_id=user_id, missing=sorted(missing))
        return True

    def update(self, token: str, todo_id: str, title: str) -> bool:
        url = f"{self.todo_url}/todos/{todo_id}"
        status, _, headers, _ = self.call(
            "GET", url, "todo: get", done=(200,), headers=self.bearer(token)
        )
        if status != 200:
            return False
        status, _, _, _ = self.call(
            "PATCH",
            url,
            "todo: update",
            done=(200,),
            after_retry=(412,),  # the first attempt applied: the ETag moved on
            json_body={"title": title},
            headers={**self.bearer(token), "If-Match": headers["etag"]},
        )
        if status == 412:  # only after a retry: did the first attempt apply?
            status, body, _, _ = self.call(
                "GET", url, "todo: get", done=(200,), headers=self.bearer(token)
            )
            if status != 200 or body["title"] != title:
                journal("update_lost", todo_id=todo_id, title=title)
                return False
        elif status != 200:
            return False
        journal("updated", todo_id=todo_id, title=title)
        return True


class Readers(Client):
    """Todo's read path at full speed (the throughput phase)."""

    def on_start(self) -> None:
        username = f"reader_{uuid.uuid4().hex[:12]}"
        credentials = {"username": username, "password": PASSWORD}
        self.call("POST", "/auth/register", "auth: register", done=(201,), json_body=credentials)
        _, body, _, _ = self.call(
            "POST", "/auth/login", "auth: login", done=(200,), json_body=credentials
        )
        self.headers = self.bearer(body["access_token"])
        _, todo, _, _ = self.call(
            "POST",
            f"{self.todo_url}/todos",
            "todo: create",
            done=(201,),
            json_body={"title": "read me"},
            headers=self.headers,
        )
        self.todo_id = todo["id"]

    @task(3)
    def list_todos(self) -> None:
        self.call("GET", f"{self.todo_url}/todos", "todo: list", done=(200,), headers=self.headers)

    @task(1)
    def get_todo(self) -> None:
        self.call(
            "GET",
            f"{self.todo_url}/todos/{self.todo_id}",
            "todo: get",
            done=(200,),
            headers=self.headers,
        )
