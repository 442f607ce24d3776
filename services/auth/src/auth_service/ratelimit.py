"""Rate limits shared by every worker and replica: the `limits` library, counting in MongoDB.

limits' own MongoDB storage counts with ``$inc``, ``$push`` and update pipelines. FerretDB 1.x
(the dev database) runs those as read-modify-write without isolation: concurrent increments are
lost, so a burst of parallel requests would get through. PortableMongoDBStorage keeps limits'
moving-window strategy and stores each hit as its own document instead: an insert (atomic on
both servers), then a count of the live hits; a hit over the limit deletes itself again. Of
concurrent hits the count never admits more than the limit (each sees every earlier insert);
a perfectly simultaneous burst may admit fewer, erring on the safe side.
Hits expire through their ``expires_at`` (TTL on MongoDB, factory_core's purge on FerretDB).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from flask_smorest import abort
from limits import parse_many
from limits.storage import MongoDBStorageBase
from limits.strategies import MovingWindowRateLimiter
from pymongo import ASCENDING, IndexModel, MongoClient
from pymongo.collection import Collection

from factory_core import mongo

EXTENSION_KEY = "auth.rate_limits"
HITS = "rate_limit_hits"

Document = dict[str, object]


class PortableMongoDBStorage(MongoDBStorageBase):
    """limits' MongoDB storage for the moving-window strategy, correct on FerretDB too."""

    def __init__(self, app: Flask) -> None:
        super().__init__("", database_name=app.config["MONGO_DB_NAME"], window_collection_name=HITS)
        self._app = app

    @property
    def storage(self) -> MongoClient:  # type: ignore[type-arg]
        # One MongoClient per process per app: factory_core's, created after any fork.
        return mongo.client(self._app)

    @property
    def hits(self) -> Collection[Document]:
        hits: Collection[Document] = self.storage[self._database_name][HITS]
        return hits

    def _init_mongo_client(self, uri: str | None, **options: int | str | bool) -> MongoClient:  # type: ignore[type-arg]
        raise NotImplementedError("PortableMongoDBStorage uses factory_core's client")

    @staticmethod
    def _live(key: str, now: float) -> dict[str, object]:
        return {"key": key, "expires_at": {"$gt": datetime.fromtimestamp(now, UTC)}}

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Record ``amount`` hits unless that makes more than ``limit`` in the last ``expiry`` s."""
        if amount > limit:
            return False
        now = time.time()
        expires_at = datetime.fromtimestamp(now, UTC) + timedelta(seconds=expiry)
        inserted = self.hits.insert_many(
            [{"key": key, "at": now, "expires_at": expires_at} for _ in range(amount)]
        ).inserted_ids
        if self.hits.count_documents(self._live(key, now)) <= limit:
            return True
        self.hits.delete_many({"_id": {"$in": inserted}})
        return False

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest live hit, number of live hits) for ``key``."""
        now = time.time()
        live = self._live(key, now)
        count = self.hits.count_documents(live)
        oldest = self.hits.find_one(live, sort=[("at", ASCENDING)])
        return (float(oldest["at"]) if oldest else now), count  # type: ignore[arg-type]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("use the moving-window strategy: $inc is not atomic on FerretDB")

    def clear(self, key: str) -> None:
        self.hits.delete_many({"key": key})

    def reset(self) -> int | None:
        return self.hits.delete_many({}).deleted_count

    def __del__(self) -> None:
        # The client is factory_core's; it is not this storage's to close.
        pass


class RateLimits:
    """Named groups of limits ("login", "register"), each counted per username and address."""

    def __init__(self, app: Flask) -> None:
        self._limiter = MovingWindowRateLimiter(PortableMongoDBStorage(app))
        mongo.declare_indexes(
            app, HITS, [IndexModel([("key", ASCENDING), ("expires_at", ASCENDING)], name="key")]
        )
        mongo.declare_expiring(app, HITS, "expires_at")
        app.extensions[EXTENSION_KEY] = self

    def hit(self, action: str, *, username: str, address: str) -> None:
        """Count one attempt; abort with 429 and Retry-After once any limit is exhausted."""
        config = current_app.config
        if not config["RATE_LIMITS_ENABLED"]:
            return
        for scope, identifier in (("ADDRESS", address), ("USERNAME", username)):
            for item in parse_many(config[f"{action.upper()}_RATE_LIMIT_PER_{scope}"]):
                if self._limiter.hit(item, "auth", action, scope.lower(), identifier):
                    continue
                stats = self._limiter.get_window_stats(
                    item, "auth", action, scope.lower(), identifier
                )
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                abort(
                    429,
                    message="Too many attempts. Retry later.",
                    code="rate_limited",
                    headers={"Retry-After": str(retry_after)},
                )


def rate_limits() -> RateLimits:
    """The current app's rate limits."""
    found: RateLimits = current_app.extensions[EXTENSION_KEY]
    return found
