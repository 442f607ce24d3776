"""Rate limits shared by every worker and replica: the `limits` library, counting in MongoDB.

Login is limited per client address and per username. A per-username limit that anyone can
exhaust would be a switch that locks the owner out, so an address the account has logged in
from before (since its last revoke-all) is exempt from it: see repositories.trusted_addresses.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import parse_many
from limits.storage import MongoDBStorage
from limits.strategies import MovingWindowRateLimiter
from pymongo import MongoClient

from auth_service.repositories.trusted_addresses import address_key, trusted_addresses
from factory_core import Problem, mongo

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
        # limits creates its TTL indexes when it opens a client of its own; on this one,
        # migrations/0001_indexes.py makes them.

    @property
    def storage(self) -> MongoClient:  # type: ignore[type-arg]
        return mongo.database(self._app).client

    def __del__(self) -> None:
        # limits closes the client it opened; this client is factory_core's to close.
        pass


class RateLimits:
    """Flask extension: named groups of limits ("login", "register", ...), counted per scope.

    An action's limits per scope come from the setting ``<ACTION>_RATE_LIMIT_PER_<SCOPE>``;
    ``trusted`` are the addresses exempt from the per-username login limit.
    """

    trusted = trusted_addresses

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = MovingWindowRateLimiter(SharedClientMongoDBStorage(app))

    def hit(self, action: str, **scopes: str) -> None:
        """Count one attempt per scope (e.g. ``address=...``); 429 once any limit is exhausted."""
        retry_after = self.spend(action, **scopes)
        if retry_after is not None:
            raise Problem(
                429, "Too many attempts. Retry later.", code="rate_limited", retry_after=retry_after
            )

    def spend(self, action: str, **scopes: str) -> int | None:
        """Count one attempt per scope; None if every limit allowed it, else the seconds until
        one would (for a caller that must not answer 429, such as the mail sender)."""
        config = current_app.config
        if not config["RATE_LIMITS_ENABLED"]:
            return None
        limiter: MovingWindowRateLimiter = current_app.extensions[EXTENSION_KEY]
        for scope, identifier in scopes.items():
            key = address_key(identifier) if scope == "address" else identifier
            for item in parse_many(config[f"{action.upper()}_RATE_LIMIT_PER_{scope.upper()}"]):
                if limiter.hit(item, "auth", action, scope, key):
                    continue
                stats = limiter.get_window_stats(item, "auth", action, scope, key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None


rate_limits = RateLimits()
