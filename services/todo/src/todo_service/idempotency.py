"""Idempotency-Key for POST: one key, one effect; retries replay the first response."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from flask import Flask
from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from factory_core import Document, Held, Leases, Problem, mongo, utc_now

COLLECTION = "idempotency_keys"
#: New keys per owner per UTC day: {_id: "<owner>:<day>", count, expires_at}.
QUOTAS = "idempotency_key_quotas"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
#: A first request that died (a killed worker) leaves a pending record; after this long another
#: request with the key may finish the job, with the todo id the first one had reserved.
LEASE = timedelta(seconds=30)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def declare_indexes(app: Flask) -> None:
    """The unique (owner, key) index is what decides between concurrent first requests."""
    mongo.declare_indexes(
        app,
        COLLECTION,
        [IndexModel([("owner", ASCENDING), ("key", ASCENDING)], unique=True, name="owner_key")],
    )
    mongo.declare_expiring(app, COLLECTION, "expires_at")
    mongo.declare_expiring(app, QUOTAS, "expires_at")


class KeyQuotaExceededError(Exception):
    """The owner used as many new keys today as one may."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("idempotency key quota exceeded")
        self.retry_after = retry_after


@dataclass(frozen=True)
class StoredResponse:
    """The first response to a key, replayed byte for byte."""

    status: int
    body: str
    headers: dict[str, str]


def validate_key(value: str) -> str:
    """The key as sent, or a 422 problem for one that is empty, too long or not ASCII."""
    if not _KEY.fullmatch(value):
        raise Problem(
            422,
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            code="unprocessable_content",
            errors={"headers": {IDEMPOTENCY_KEY_HEADER: ["Not a valid idempotency key."]}},
        )
    return value


def request_fingerprint(body: Any) -> str:
    """A hash of the JSON body, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyRepository:
    """The idempotency_keys collection: one record per (owner, key) until it expires, held by
    the request doing its work (a lease: factory_core's Leases)."""

    leases = Leases(COLLECTION, LEASE)

    @property
    def _records(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def claim(
        self, *, owner: str, key: str, fingerprint: str, ttl: timedelta, keys_per_day: int
    ) -> Held | Document:
        """The record for (owner, key): held, when this call created it (it does the work);
        else as it is stored. A new key counts against the owner's ``keys_per_day``
        (KeyQuotaExceededError beyond)."""
        while True:
            now = utc_now()
            held = self.leases.claim(
                {
                    "_id": ObjectId(),
                    "owner": owner,
                    "key": key,
                    "fingerprint": fingerprint,
                    "resource_id": ObjectId(),
                    "state": "pending",
                    "created_at": now,
                    "expires_at": now + ttl,
                }
            )
            if held is None:
                existing = self._records.find_one({"owner": owner, "key": key})
                if existing is None:
                    continue  # expired and removed in between: try again
                if existing["expires_at"] <= now:
                    # Expired, not yet removed (the TTL monitor runs once a minute): free again.
                    self._records.delete_one({"_id": existing["_id"], "expires_at": {"$lte": now}})
                    continue
                return existing
            if not self._count_new_key(owner=owner, per_day=keys_per_day, now=now):
                held.delete()
                tomorrow = datetime.combine(
                    now.date() + timedelta(days=1), datetime.min.time(), UTC
                )
                raise KeyQuotaExceededError(max(1, int((tomorrow - now).total_seconds())))
            return held

    def _count_new_key(self, *, owner: str, per_day: int, now: datetime) -> bool:
        """Count one new key for today, atomically; False when that is more than ``per_day``."""
        try:
            mongo.collection(QUOTAS).update_one(
                {"_id": f"{owner}:{now.date().isoformat()}", "count": {"$lt": per_day}},
                {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": now + timedelta(days=2)}},
                upsert=True,
            )
        except DuplicateKeyError:  # today's count exists and is at the limit
            return False
        return True

    def erase_owner(self, *, owner: str) -> None:
        """Delete every record and daily count of ``owner``."""
        self._records.delete_many({"owner": owner})
        mongo.collection(QUOTAS).delete_many({"_id": {"$regex": f"^{re.escape(owner)}:"}})


#: The idempotency records, for every view of the service.
idempotency_records = IdempotencyRepository()


def run_once(
    *,
    owner: str,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    wait_seconds: float,
    keys_per_day: int,
    create: Callable[[ObjectId], StoredResponse],
    records: IdempotencyRepository,
) -> tuple[StoredResponse, bool]:
    """Run ``create`` at most once per (owner, key); return its response and whether replayed.

    ``create`` gets the resource id reserved for the key, so a request finishing the work of
    a dead first attempt creates the same resource, not a second one.
    """
    while True:
        try:
            claimed = records.claim(
                owner=owner, key=key, fingerprint=fingerprint, ttl=ttl, keys_per_day=keys_per_day
            )
        except KeyQuotaExceededError as exceeded:
            raise Problem(
                429,
                f"At most {keys_per_day} new Idempotency-Keys per day. Retry later.",
                code="idempotency_key_quota_exceeded",
                retry_after=exceeded.retry_after,
            ) from None
        if isinstance(claimed, Held):
            held = claimed
            break
        if claimed["fingerprint"] != fingerprint:
            raise Problem(
                422,
                "This Idempotency-Key was already used with a different request body.",
                code="idempotency_key_reused",
            )
        # Another request has the key: its response once it has one, or its work once it is
        # gone (its lease ran out, or it failed and released it).
        outcome = records.leases.wait(
            claimed["_id"],
            result=lambda record: _stored(record) if record.get("state") == "done" else None,
            seconds=wait_seconds,
            busy=_in_progress,
            take_if={"state": "pending"},
        )
        if isinstance(outcome, StoredResponse):
            return outcome, True
        if isinstance(outcome, Held):
            held = outcome
            break
        # None: the record expired and was removed meanwhile: start over.
    try:
        response = create(held.document["resource_id"])
    except Exception:
        # The record, and the resource id it reserved, stay: the first attempt may have
        # created the resource before it failed (an insert applied, its acknowledgement lost),
        # and the retry must finish that same resource. Released, a retry takes it over at
        # once. Best effort: when the database is what failed, this fails too, and a retry
        # waits for the lease to run out instead (409 with Retry-After meanwhile).
        with contextlib.suppress(PyMongoError):
            held.release()
        raise
    held.update(
        {
            "$set": {
                "state": "done",
                "status": response.status,
                "body": response.body,
                "headers": response.headers,
            }
        }
    )
    return response, False


def _in_progress() -> Problem:
    return Problem(
        409,
        "A request with this Idempotency-Key is still in progress. Retry later.",
        code="idempotency_key_in_progress",
        retry_after=1,
    )


def _stored(record: Document) -> StoredResponse:
    return StoredResponse(
        status=int(record["status"]), body=str(record["body"]), headers=dict(record["headers"])
    )
