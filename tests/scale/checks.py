"""The invariants of the scale test, read from the load's journal, the databases, the mail
catcher and every instance after the load (tests/scale/locustfile.py writes the journal)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from bson import ObjectId
from pymongo.database import Database
from tests.support.gunicorn import GunicornServer

#: Collections that keep an erased account's id by design: the revocation list and the event
#: feed (they carry the deletion to the other services), the refresh-token uses (they expire
#: with the tokens they guard, and hold no personal data).
KEPT_AFTER_ERASURE = frozenset({"revocations", "account_events", "refresh_token_uses"})
#: Fields that name an account in any collection of either service.
ACCOUNT_FIELDS = ("_id", "owner", "user_id", "subject", "sub")


@dataclass
class Check:
    """One invariant: what it says, whether it held, and the figures it rests on."""

    name: str
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return not self.problems

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "held": self.held,
            "figures": self.figures,
            "problems": self.problems[:20],
        }


class Journal:
    """The load's journal: what each client saw acknowledged, by kind."""

    def __init__(self, path: Path) -> None:
        self.entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            self.entries[entry["kind"]].append(entry)

    def __getitem__(self, kind: str) -> list[dict[str, Any]]:
        return self.entries.get(kind, [])

    def erased(self) -> set[str]:
        return {entry["user_id"] for entry in self["erased"]}


def client_answers(journal: Journal) -> Check:
    """Every answer the clients got was the expected one or a retryable failure."""
    check = Check("every failure a client saw was retryable (no other status, no lost answer)")
    check.figures["deletion_retry_refused"] = len(journal["deletion_retry_refused"])
    for kind in ("unexpected", "replay_mismatch", "update_lost", "missing_in_list", "crashed"):
        check.figures[kind] = len(journal[kind])
        for entry in journal[kind][:5]:
            check.problems.append(f"{kind}: {entry}")
    return check


def acknowledged_writes(journal: Journal, todo_db: Database[dict[str, Any]]) -> Check:
    """Every acknowledged todo of a live account is stored once, as last acknowledged."""
    check = Check("no acknowledged write lost; no duplicate from a retried Idempotency-Key")
    erased = journal.erased()
    expected: dict[str, dict[str, Any]] = {}
    for created in journal["created"]:
        if created["user_id"] not in erased:
            expected[created["todo_id"]] = created
    titles = {entry["todo_id"]: entry["title"] for entry in journal["updated"]}
    stored = {
        str(todo["_id"]): todo
        for todo in todo_db.todos.find(
            {"owner": {"$in": sorted({entry["user_id"] for entry in expected.values()})}}
        )
    }
    for todo_id, created in expected.items():
        todo = stored.get(todo_id)
        if todo is None:
            check.problems.append(f"acknowledged todo {todo_id} ({created['title']}) is lost")
            continue
        check.expect(todo["owner"] == created["user_id"], f"{todo_id} changed owner")
        want = titles.get(todo_id, created["title"])
        check.expect(todo["title"] == want, f"{todo_id}: {todo['title']!r}, not {want!r}")
    per_intent = Counter(
        (todo["owner"], todo["title"].removesuffix(" updated")) for todo in stored.values()
    )
    duplicates = [intent for intent, count in per_intent.items() if count > 1]
    check.expect(not duplicates, f"created more than once: {duplicates[:5]}")
    check.figures.update(
        acknowledged_creates=len(journal["created"]),
        created_after_a_retry=sum(1 for entry in journal["created"] if entry["retried"]),
        acknowledged_updates=len(journal["updated"]),
        checked_live_todos=len(expected),
        duplicates=len(duplicates),
    )
    return check


def _refused_everywhere(token: str, todo: list[GunicornServer]) -> list[str]:
    problems = []
    for number, server in enumerate(todo, start=1):
        answer = requests.get(
            f"{server.url}/todos", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        if answer.status_code != 401:
            problems.append(f"todo{number} answered {answer.status_code} to a revoked token")
    return problems


def revoked_tokens(journal: Journal, todo: list[GunicornServer]) -> Check:
    """Every token revoked during the load (logout, account deletion) is refused by every todo
    instance (asked directly, not through the balancer)."""
    check = Check("every revoked token refused by every todo instance")
    tokens = [entry["token"] for entry in (*journal["revoked"], *journal["erased"])]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for problems in pool.map(lambda token: _refused_everywhere(token, todo), tokens):
            check.problems.extend(problems)
    check.figures.update(revoked_tokens=len(tokens), requests=len(tokens) * len(todo))
    return check


def _naming(user_id: str) -> dict[str, Any]:
    values: list[Any] = [user_id, *([ObjectId(user_id)] if ObjectId.is_valid(user_id) else [])]
    return {"$or": [{name: value} for name in ACCOUNT_FIELDS for value in values]}


def erasure(journal: Journal, databases: list[Database[dict[str, Any]]]) -> Check:
    """Nothing of an erased account is left in any collection of either service."""
    check = Check("every erased account gone from both services")
    erased = sorted(journal.erased())
    for db in databases:
        for name in db.list_collection_names():
            if name in KEPT_AFTER_ERASURE:
                continue
            for user_id in erased:
                left = db[name].count_documents(_naming(user_id))
                check.expect(left == 0, f"{db.name}.{name} keeps {left} of erased {user_id}")
    check.figures["erased_accounts"] = len(erased)
    return check


def mail_once(
    journal: Journal, messages: list[dict[str, Any]], *, outage: tuple[float, float]
) -> Check:
    """Each verification mail of the load sent once: once to every kept account, at most once
    to an erased one (its mail may have been dropped with it). The outbox delivers at least
    once: a second copy is counted, and allowed only for an account registered during the
    database's ``outage`` (wall-clock times), where a sender may not have recorded a delivery."""
    check = Check("each mail sent once")
    received = Counter(recipient["Address"] for message in messages for recipient in message["To"])
    erased = journal.erased()
    accounts = journal["account"]
    twice = []
    for account in accounts:
        count = received[account["email"]]
        if count == 2 and outage[0] <= account["at"] <= outage[1]:
            twice.append(account["email"])
            continue
        if account["user_id"] in erased:
            check.expect(count <= 1, f"{count} mails to erased {account['email']}")
        else:
            check.expect(count == 1, f"{count} mails to {account['email']}")
    check.figures.update(
        accounts=len(accounts),
        messages=sum(received.values()),
        sent_twice_around_the_database_restart=len(twice),
    )
    return check
