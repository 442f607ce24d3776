"""RecoveryTokenRepository: single-use reset and verification tokens, stored hashed.

A token is 256 random bits given only to the mail that carries it; the collection keeps its
SHA-256 (a database reader cannot use what it finds), what it is bound to (the password hash
it may replace, or the address it verifies) and when it expires (a TTL index removes it).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from flask import Flask
from pymongo import IndexModel
from pymongo.collection import Collection

from factory_core import mongo

COLLECTION = "recovery_tokens"
RESET = "password_reset"
VERIFY_EMAIL = "verify_email"

Document = dict[str, Any]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credential_binding(password_hash: str) -> str:
    """What binds a reset token to the password it may replace: a changed password voids it."""
    return _digest(password_hash)


class RecoveryTokenRepository:
    @property
    def _tokens(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    @staticmethod
    def declare_indexes(app: Flask) -> None:
        mongo.declare_expiring(app, COLLECTION, "expires_at")
        mongo.declare_indexes(
            app, COLLECTION, [IndexModel([("user_id", 1), ("purpose", 1)], name="user_purpose")]
        )

    def issue(self, *, purpose: str, user_id: ObjectId, binding: str, ttl: timedelta) -> str:
        """A new token for ``purpose``; the account's earlier ones for it stop working."""
        self._tokens.delete_many({"user_id": user_id, "purpose": purpose})
        token = secrets.token_urlsafe(32)
        self._tokens.insert_one(
            {
                "_id": _digest(token),
                "purpose": purpose,
                "user_id": user_id,
                "binding": binding,
                "expires_at": datetime.now(UTC) + ttl,
            }
        )
        return token

    def peek(self, *, purpose: str, token: str) -> Document | None:
        """The token's record if it is valid now, leaving it usable."""
        return self._tokens.find_one(self._valid(purpose, token))

    def consume(self, *, purpose: str, token: str) -> Document | None:
        """The token's record if it is valid now, and never again (exactly one use wins)."""
        return self._tokens.find_one_and_delete(self._valid(purpose, token))

    def revoke(self, *, purpose: str, user_id: ObjectId) -> None:
        self._tokens.delete_many({"user_id": user_id, "purpose": purpose})

    @staticmethod
    def _valid(purpose: str, token: str) -> Document:
        # The TTL monitor runs once a minute: expiry is checked here, not left to it.
        return {"_id": _digest(token), "purpose": purpose, "expires_at": {"$gt": datetime.now(UTC)}}


recovery_tokens = RecoveryTokenRepository()
