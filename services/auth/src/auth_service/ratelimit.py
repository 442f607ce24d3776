"""Rate limits shared by every worker and replica: the `limits` library, counting in MongoDB."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from flask_smorest import abort
from limits import parse_many
from limits.storage import MongoDBStorage
from limits.strategies import MovingWindowRateLimiter
from pymongo import MongoClient

from factory_core import mongo

EXTENSION_KEY = "auth.rate_limits"
#: limits' moving windows: one document per key, holding the times of its recent hits.
WINDOWS = "rate_limit_windows"
#: limits' fixed-window counters (unused by the moving-window strategy, but named for clarity).
COUNTERS = "rate_limit_counters"


class SharedClientMongoDBStorage(MongoDBStorage):
    """limits' MongoDB storage on factory_core's client: one client per process, after fork."""

    def __init__(self, app: Flask) -> None:
        super().__init__(
            app.config["MONGO_URI"],
            database_name=app.config["MONGO_DB_NAME"],
            counter_collection_name=COUNTERS,
            window_collection_name=WINDOWS,
        )
        self._app = app
        # limits creates its TTL indexes when it opens a client of its own; this one
        # declares them with the app's other indexes instead.
        mongo.declare_expiring(app, WINDOWS, "expireAt")
        mongo.declare_expiring(app, COUNTERS, "expireAt")

    @property
    def storage(self) -> MongoClient:  # type: ignore[type-arg]
        return mongo.database(self._app).client  # the first use creates the declared indexes

    def __del__(self) -> None:
        # limits closes the client it opened; this client is factory_core's to close.
        pass


class RateLimits:
    """Named groups of limits ("login", "register"), each counted per username and address."""

    def __init__(self, app: Flask) -> None:
        self._limiter = MovingWindowRateLimiter(SharedClientMongoDBStorage(app))
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
