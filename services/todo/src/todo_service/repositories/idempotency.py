"""IdempotencyRepository: the records of Idempotency-Keys, one per (owner, key), each held by the
request doing its work (a lease), and the daily count of new keys per owner."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import Document, Held, Leases, mongo, utc_now

COLLECTION = "idempotency_keys"
#: New keys per owner per UTC day: {_id: "<owner>:<day>", count, expires_at}.
QUOTAS = "idempotency_key_quotas"
#: A first request that died (a killed worker) leaves a pending record; after this long another
#: request with the key may finish the job, with the todo id the first one had reserved.
LEASE = timedelta(seconds=30)


class KeyQuotaExceededError(Exception):
    """The owner used as many new keys today as one may."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("idempotency key quota exceeded")
        self.retry_after = retry_after


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
