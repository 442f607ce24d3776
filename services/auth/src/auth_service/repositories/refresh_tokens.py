"""RefreshTokenRepository: each refresh token is rotated once; a retry gets the same successor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import mongo

COLLECTION = "refresh_token_uses"
#: The successor pair of each rotation, encrypted, kept only for the retry grace window.
SUCCESSORS = "refresh_token_successors"

Document = dict[str, Any]


class RefreshTokenRepository:
    """The refresh tokens already used, keyed by jti, and their successors for a while."""

    @property
    def _uses(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    @property
    def _successors(self) -> Collection[Document]:
        return mongo.collection(SUCCESSORS)

    @staticmethod
    def declare_indexes(app: Flask) -> None:
        # Records are needed only while the token could still verify.
        mongo.declare_expiring(app, COLLECTION, "expires_at")
        mongo.declare_expiring(app, SUCCESSORS, "expires_at")

    def claim(
        self, *, jti: str, family_id: str, user_id: str, expires_at: datetime, lease: timedelta
    ) -> tuple[Document, bool]:
        """The use record of ``jti`` and whether this call created it (and so rotates it).

        The claim is an insert keyed by the jti: the unique _id makes exactly one of any
        number of concurrent claims succeed, and needs no record of unused tokens.
        """
        now = datetime.now(UTC)
        record: Document = {
            "_id": jti,
            "family_id": family_id,
            "user_id": user_id,
            "used_at": now,
            "lease_until": now + lease,
            "expires_at": expires_at,
        }
        try:
            self._uses.insert_one(record)
        except DuplicateKeyError:
            existing = self._uses.find_one({"_id": jti})
            if existing is not None:
                return existing, False
            return self.claim(  # removed in between: the token has expired, the claim is moot
                jti=jti, family_id=family_id, user_id=user_id, expires_at=expires_at, lease=lease
            )
        return record, True

    def get(self, *, jti: str) -> Document | None:
        return self._uses.find_one({"_id": jti})

    def take_over(self, *, jti: str, lease: timedelta) -> bool:
        """Claim a rotation whose request failed or died (its lease ran out, no successor)."""
        now = datetime.now(UTC)
        taken = self._uses.find_one_and_update(
            {"_id": jti, "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + lease}},
        )
        return taken is not None

    def end_lease(self, *, jti: str) -> None:
        """This rotation failed: let a retry take it over at once."""
        self._uses.update_one({"_id": jti}, {"$set": {"lease_until": datetime.now(UTC)}})

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
