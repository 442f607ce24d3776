"""RecoveryTokenRepository: single-use reset and verification tokens, stored hashed.

A token is 256 random bits given only to the mail that carries it; the collection keeps its
SHA-256 (a database reader cannot use what it finds), what it is bound to (the password and
address a reset may replace, or the address a verification confirms) and when it expires (a
TTL index removes it). An account has at most one token per purpose: its document's ``_id``
is (purpose, account), so issuing one replaces the last in one write.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import Document, mongo

COLLECTION = "recovery_tokens"
RESET = "password_reset"
VERIFY_EMAIL = "verify_email"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reset_binding(user: Document) -> str:
    """What a reset token is bound to: the password it may replace and the address it was
    mailed to. Changing either voids it."""
    return _digest(f"{user['password_hash']}\0{user.get('email') or ''}")


class RecoveryTokenRepository:
    @property
    def _tokens(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def issue(self, *, purpose: str, user_id: ObjectId, binding: str, ttl: timedelta) -> str:
        """A new token for ``purpose``; the account's earlier one for it stops working (one
        replace: of tokens issued at once, only the last written works)."""
        token = secrets.token_urlsafe(32)
        record = {
            "digest": _digest(token),
            "purpose": purpose,
            "user_id": user_id,
            "binding": binding,
            "expires_at": datetime.now(UTC) + ttl,
        }
        selector = {"_id": f"{purpose}:{user_id}"}
        try:
            self._tokens.replace_one(selector, record, upsert=True)
        except DuplicateKeyError:  # a concurrent upsert inserted it first: replace that one
            self._tokens.replace_one(selector, record)
        return token

    def peek(self, *, purpose: str, token: str) -> Document | None:
        """The token's record if it is valid now, leaving it usable."""
        return self._tokens.find_one(self._valid(purpose, token))

    def consume(self, *, purpose: str, token: str) -> Document | None:
        """The token's record if it is valid now, and never again (exactly one use wins)."""
        return self._tokens.find_one_and_delete(self._valid(purpose, token))

    def revoke(self, *, purpose: str, user_id: ObjectId) -> None:
        self._tokens.delete_one({"_id": f"{purpose}:{user_id}"})

    def erase(self, *, user_id: ObjectId) -> None:
        """Every token of a deleted account (its address's binding goes with it)."""
        self._tokens.delete_many({"user_id": user_id})

    @staticmethod
    def _valid(purpose: str, token: str) -> Document:
        # The TTL monitor runs once a minute: expiry is checked here, not left to it.
        return {
            "digest": _digest(token),
            "purpose": purpose,
            "expires_at": {"$gt": datetime.now(UTC)},
        }


recovery_tokens = RecoveryTokenRepository()
