"""What the services rely on from MongoDB, checked on whatever server the suite runs against.

The same tests run on the dev database (`make test`) and on a real MongoDB
(`MONGO_URI=... make test`). A difference the dev database has is marked ``known_difference``
here and listed in the README's "Known differences"; it is never worked around in a service.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument, WriteConcern
from pymongo.collation import Collation
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

Document = dict[str, Any]

ON_DEV_DATABASE = not os.environ.get("MONGO_URI")


def known_difference(reason: str) -> pytest.MarkDecorator:
    """MongoDB's behaviour, which the dev database does not have yet (README: Known differences).

    Strict: the day the dev database behaves like MongoDB, the test passes and the xfail fails,
    so the README's list cannot go stale.
    """
    return pytest.mark.xfail(ON_DEV_DATABASE, reason=reason, strict=True)


@pytest.fixture
def db(mongo_client: MongoClient[Document], db_name: str) -> Database[Document]:
    return mongo_client.get_database(db_name, write_concern=WriteConcern(w="majority"))


def _race(count: int, call: Callable[[], Any]) -> list[Any]:
    """Run ``call`` ``count`` times at once (released together by a barrier)."""
    barrier = threading.Barrier(count)

    def run(_: int) -> Any:
        barrier.wait()
        try:
            return call()
        except DuplicateKeyError as error:
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def fast_ttl_monitor(mongo_client: MongoClient[Document]) -> Iterator[None]:
    """Let the TTL monitor run every second for this test (it runs every 60 s by default)."""
    try:
        before = mongo_client.admin.command("getParameter", 1, ttlMonitorSleepSecs=1)
        mongo_client.admin.command("setParameter", 1, ttlMonitorSleepSecs=1)
    except OperationFailure as error:  # a managed MongoDB may refuse setParameter
        pytest.skip(f"this server does not let the test speed up its TTL monitor: {error}")
    yield
    mongo_client.admin.command("setParameter", 1, ttlMonitorSleepSecs=before["ttlMonitorSleepSecs"])


def test_a_ttl_index_removes_expired_documents(
    db: Database[Document], fast_ttl_monitor: None
) -> None:
    sessions = db.sessions
    sessions.create_index("expires_at", expireAfterSeconds=0, name="expires_at_ttl")
    now = datetime.now(UTC)
    sessions.insert_many(
        [
            {"_id": "expired", "expires_at": now - timedelta(minutes=1)},
            {"_id": "live", "expires_at": now + timedelta(minutes=10)},
        ]
    )
    # Until the monitor runs, readers that filter on the expiry see only live documents.
    live = sessions.find({"expires_at": {"$gt": datetime.now(UTC)}})
    assert [document["_id"] for document in live] == ["live"]
    deadline = time.monotonic() + 30
    while sessions.count_documents({}) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [document["_id"] for document in sessions.find()] == ["live"]
    assert sessions.index_information()["expires_at_ttl"]["expireAfterSeconds"] == 0


def test_a_unique_index_with_a_collation_ignores_case(db: Database[Document]) -> None:
    collation = Collation(locale="en", strength=2)
    db.names.create_index("name", unique=True, collation=collation)
    db.names.insert_one({"name": "Alice"})
    with pytest.raises(DuplicateKeyError) as error:
        db.names.insert_one({"name": "ALICE"})
    assert error.value.code == 11000
    assert db.names.find_one({"name": "alice"}, collation=collation) is not None
    assert db.names.find_one({"name": "alice"}) is None  # no collation: exact comparison


def test_a_collation_sorts_case_and_accents_second(db: Database[Document]) -> None:
    collation = Collation(locale="en", strength=2)
    db.words.create_index([("word", ASCENDING)], collation=collation)
    db.words.insert_many([{"word": word} for word in ("zoo", "Éclair", "apple", "Banana")])
    ordered = db.words.find({}, {"_id": 0}, collation=collation).sort("word", ASCENDING)
    assert [document["word"] for document in ordered] == ["apple", "Banana", "Éclair", "zoo"]


def test_duplicate_keys_raise_duplicate_key_error_11000(db: Database[Document]) -> None:
    db.items.create_index([("owner", ASCENDING), ("key", ASCENDING)], unique=True)
    db.items.insert_one({"_id": 1, "owner": "a", "key": "k"})
    for duplicate in ({"_id": 1}, {"_id": 2, "owner": "a", "key": "k"}):
        with pytest.raises(DuplicateKeyError) as error:
            db.items.insert_one(duplicate)
        assert error.value.code == 11000
    db.items.insert_one({"_id": 3, "owner": "b", "key": "k"})  # unique per (owner, key) only


def test_concurrent_conditional_updates_have_one_winner(db: Database[Document]) -> None:
    db.todos.insert_one({"_id": "t", "version": 1})
    for _ in range(5):
        version = (db.todos.find_one({"_id": "t"}) or {})["version"]
        results = _race(
            8,
            lambda version=version: db.todos.find_one_and_update(
                {"_id": "t", "version": version},
                {"$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            ),
        )
        winners = [result for result in results if result is not None]
        assert len(winners) == 1
        assert winners[0]["version"] == version + 1


def test_concurrent_increments_are_all_applied(db: Database[Document]) -> None:
    db.counters.insert_one({"_id": "c", "n": 0})
    _race(16, lambda: [db.counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for _ in range(25)])
    assert (db.counters.find_one({"_id": "c"}) or {})["n"] == 400


def test_concurrent_upserts_of_one_key_make_one_document(db: Database[Document]) -> None:
    db.revocations.create_index([("kind", ASCENDING), ("value", ASCENDING)], unique=True)
    selector = {"kind": "family", "value": "f1"}

    def upsert() -> Any:
        # What RevocationRepository.revoke does: a DuplicateKeyError means another upsert
        # created the document first, and an update then applies.
        try:
            return db.revocations.update_one(selector, {"$set": {"at": 1}}, upsert=True)
        except DuplicateKeyError:
            return db.revocations.update_one(selector, {"$set": {"at": 1}})

    _race(8, upsert)
    assert db.revocations.count_documents(selector) == 1


def test_datetimes_keep_milliseconds_and_come_back_aware(db: Database[Document]) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    db.times.insert_one({"_id": 1, "at": moment})
    stored = (db.times.find_one({"_id": 1}) or {})["at"]
    assert stored == moment.replace(microsecond=678_000)
    assert stored.utcoffset() == timedelta(0)


def test_booleans_stay_booleans_after_set(db: Database[Document]) -> None:
    db.flags.insert_one({"_id": 1, "done": False})
    db.flags.update_one({"_id": 1}, {"$set": {"done": True}})
    assert (db.flags.find_one({"_id": 1}) or {})["done"] is True
    assert db.flags.count_documents({"done": True}) == 1
    assert db.flags.count_documents({"done": 1}) == 0  # a boolean is not the number 1


def test_sort_skip_limit_and_count_page_through_an_index(db: Database[Document]) -> None:
    db.todos.create_index([("owner", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)])
    start = datetime(2030, 1, 1, tzinfo=UTC)
    mine = [
        {"owner": "me", "created_at": start + timedelta(seconds=i // 2), "n": i} for i in range(45)
    ]
    others = [{"owner": "other", "created_at": start, "n": -1} for _ in range(10)]
    db.todos.insert_many(mine + others)
    order = [("created_at", DESCENDING), ("_id", DESCENDING)]
    pages = [
        [doc["n"] for doc in db.todos.find({"owner": "me"}, sort=order, skip=skip, limit=20)]
        for skip in (0, 20, 40)
    ]
    assert [len(page) for page in pages] == [20, 20, 5]
    seen = [n for page in pages for n in page]
    assert sorted(seen) == list(range(45))  # no overlap, nothing skipped, despite equal times
    assert db.todos.count_documents({"owner": "me"}) == 45
    assert db.todos.count_documents({"owner": "me"}, skip=40) == 5


def test_a_literal_regex_matches_the_text_and_nothing_else(db: Database[Document]) -> None:
    texts = ["a.b (c)", "axb (c)", "price $5+", "#1 ~& x"]
    db.notes.insert_many([{"text": text} for text in texts])
    for text in texts:
        query = {"text": {"$regex": re.escape(text), "$options": "i"}}
        assert [doc["text"] for doc in db.notes.find(query)] == [text]


def test_an_escaped_nul_in_a_regex_matches_a_nul(db: Database[Document]) -> None:
    db.notes.insert_many([{"text": "a\x00b"}, {"text": "ab"}])
    found = db.notes.find({"text": {"$regex": "a\\x00b"}}, {"_id": 0})
    assert [doc["text"] for doc in found] == ["a\x00b"]


@known_difference("the dev database accepts a regular expression with a NUL byte")
def test_a_regex_with_a_nul_byte_is_refused(db: Database[Document]) -> None:
    db.notes.insert_one({"text": "a"})
    with pytest.raises(OperationFailure):
        db.notes.count_documents({"text": {"$regex": "a\x00b"}})


@known_difference("the dev database reads, filters and sorts a find's whole match, then limits")
def test_a_limited_index_scan_stops_after_its_limit(db: Database[Document]) -> None:
    # Cursor pages rely on it: a page reads page_size + 1 index entries, whatever the list's
    # size. Not timed: the documents past the limit would fail the filter (a division by
    # zero), so a server that evaluates them answers with an error.
    db.todos.create_index([("owner", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)])
    db.todos.insert_many(
        [{"owner": "a", "created_at": i, "divisor": 1 if i < 30 else 0} for i in range(60)]
    )
    page = db.todos.find(
        {"owner": "a", "$expr": {"$gt": [{"$divide": [1, "$divisor"]}, 0]}},
        sort=[("created_at", ASCENDING), ("_id", ASCENDING)],
        limit=21,
    )
    assert [todo["created_at"] for todo in page] == list(range(21))
