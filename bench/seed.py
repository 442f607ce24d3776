"""Benchmark data: accounts and tokens through auth's API, todos through todo's API or pymongo."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
from bson import ObjectId
from pymongo import MongoClient
from tests.support.accounts import Account, LiveHttp

from factory_core import utc_now
from todo_service.repositories import to_document

PASSWORD = "correct horse battery staple"  # noqa: S105 (a benchmark account)
_TIMEOUT = 30


def register(auth_url: str, username: str) -> Account:
    """A new account, registered and logged in through auth's API."""
    return Account(LiveHttp(auth_url, timeout=_TIMEOUT), username, PASSWORD).register().login()


def login(auth_url: str, username: str) -> dict[str, Any]:
    """A new session of the account: its token pair."""
    return Account(LiveHttp(auth_url, timeout=_TIMEOUT), username, PASSWORD).login().tokens


def access_token(auth_url: str, username: str) -> str:
    return str(login(auth_url, username)["access_token"])


def access_tokens(auth_url: str, username: str, count: int) -> list[str]:
    """``count`` distinct access tokens of the account, as that many clients would hold.

    One login, then a chain of refreshes (a login costs a password hash; a refresh does not).
    """
    pair = login(auth_url, username)
    tokens = [str(pair["access_token"])]
    with requests.Session() as session:
        while len(tokens) < count:
            answer = session.post(
                f"{auth_url}/auth/refresh",
                headers={"Authorization": f"Bearer {pair['refresh_token']}"},
                timeout=_TIMEOUT,
            )
            answer.raise_for_status()
            pair = answer.json()
            tokens.append(str(pair["access_token"]))
    return tokens


def refresh_tokens(auth_url: str, username: str, count: int) -> list[str]:
    """``count`` sessions' refresh tokens (each good for one rotation chain)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        pairs = list(pool.map(lambda _: login(auth_url, username), range(count)))
    return [str(pair["refresh_token"]) for pair in pairs]


def insert_todos(
    mongo_uri: str, database: str, owner: str, count: int, *, batch: int = 5000
) -> list[str]:
    """``count`` todos for ``owner``, inserted directly in the repository's document shape.

    Creation times are a millisecond apart, newest last, as if created one by one.
    """
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True)
    try:
        todos = client[database]["todos"]
        start = utc_now() - timedelta(milliseconds=count)
        ids: list[str] = []
        for first in range(0, count, batch):
            documents = []
            for number in range(first, min(count, first + batch)):
                fields = {
                    "_id": ObjectId(),
                    "title": f"Todo number {number}",
                    "notes": "Seeded by make bench.",
                    "done": number % 3 == 0,
                    "due": None,
                    "priority": ("low", "normal", "high")[number % 3],
                    "tags": ["bench", f"group-{number % 10}"],
                }
                documents.append(
                    to_document(owner, fields, now=start + timedelta(milliseconds=number))
                )
            todos.insert_many(documents, ordered=False)
            # The owner's counter, as the service keeps it (the unfiltered list's total).
            client[database]["todo_counts"].update_one(
                {"_id": owner}, {"$inc": {"count": len(documents)}}, upsert=True
            )
            ids.extend(str(document["_id"]) for document in documents)
        return ids
    finally:
        client.close()


def create_todos(todo_url: str, token: str, count: int) -> list[tuple[str, str]]:
    """``count`` todos created through the API; their ids and ETags."""

    def create(number: int) -> tuple[str, str]:
        answer = requests.post(
            f"{todo_url}/todos",
            json={"title": f"Patch target {number}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=_TIMEOUT,
        )
        if answer.status_code != 201:
            raise RuntimeError(f"POST /todos: {answer.status_code} {answer.text}")
        return str(answer.json()["id"]), answer.headers["ETag"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(create, range(count)))


def current_etags(todo_url: str, token: str, ids: list[str]) -> list[tuple[str, str]]:
    """The ETags the todos have now (a PATCH run moved them on)."""

    def read(todo_id: str) -> tuple[str, str]:
        answer = requests.get(
            f"{todo_url}/todos/{todo_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=_TIMEOUT,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"GET /todos/{todo_id}: {answer.status_code} {answer.text}")
        return todo_id, answer.headers["ETag"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(read, ids))
