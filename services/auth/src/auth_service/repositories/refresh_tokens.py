"""RefreshTokenRepository: each refresh token is rotated once; a retry gets the same successor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from pymongo.collection import Collection

from factory_core import Document, Held, Leases, mongo

COLLECTION = "refresh_token_uses"
#: The successor pair of each rotation, encrypted, kept only for the retry grace window.
SUCCESSORS = "refresh_token_successors"


def rotation_leases(config: Mapping[str, Any]) -> Leases:
    """A use is leased for as long as its request may work on the database (its budget,
    MONGO_TIMEOUT_MS; 10 s without one) and a second more: then that request is over, and a
    retry within REFRESH_RETRY_GRACE_SECONDS may finish the rotation once the lease can be
    taken over (5 s after the use by default, well inside the 10 s grace)."""
    budget = float(config["MONGO_TIMEOUT_MS"]) / 1000 or 10.0
    return Leases(COLLECTION, timedelta(seconds=budget + 1))


class RefreshTokenRepository:
    """The refresh tokens already used, keyed by jti, and their successors for a while. A use
    is a lease (factory_core's Leases): the request that claimed it rotates the token."""

    @property
    def leases(self) -> Leases:
        return rotation_leases(current_app.config)

    @property
    def _uses(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    @property
    def _successors(self) -> Collection[Document]:
        return mongo.collection(SUCCESSORS)

    def claim(self, *, jti: str, family_id: str, user_id: str, expires_at: datetime) -> Held | None:
        """The use of ``jti``, held, when this call is its first use (and so rotates it); None
        when it was used before. The unique _id makes exactly one concurrent claim win, and
        needs no record of unused tokens."""
        return self.leases.claim(
            {
                "_id": jti,
                "family_id": family_id,
                "user_id": user_id,
                "used_at": datetime.now(UTC),
                "expires_at": expires_at,
            }
        )

    def complete(self, *, jti: str, successor: bytes, keep_until: datetime) -> None:
        """Record the rotation's successor (encrypted) until ``keep_until``: the rotation is done.

        One write: a use with a successor is done, one without is in progress (or failed, once
        its lease runs out).
        """
        self._successors.replace_one(
            {"_id": jti}, {"successor": successor, "expires_at": keep_until}, upsert=True
        )

    def successor(self, *, jti: str) -> bytes | None:
        """The rotation's successor, while the grace window lasts."""
        found = self._successors.find_one({"_id": jti, "expires_at": {"$gt": datetime.now(UTC)}})
        return None if found is None else bytes(found["successor"])


#: The refresh-token uses and successors.
refresh_tokens = RefreshTokenRepository()
