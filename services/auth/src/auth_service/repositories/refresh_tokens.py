"""RefreshTokenRepository: each refresh token can be used (rotated) exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from factory_core import mongo

COLLECTION = "refresh_token_uses"

Document = dict[str, Any]


class RefreshTokenRepository:
    """The refresh tokens already used, keyed by jti."""

    def __init__(self, database: Database[Document]) -> None:
        self._uses = database[COLLECTION]

    @staticmethod
    def declare_indexes(app: Flask) -> None:
        # Records are needed only while the token could still verify.
        mongo.declare_expiring(app, COLLECTION, "expires_at")

    def claim(self, *, jti: str, family_id: str, user_id: str, expires_at: datetime) -> bool:
        """Record the token's one use: True for exactly one caller, False if used before.

        The claim is an insert keyed by the jti: the unique _id makes exactly one of any
        number of concurrent claims succeed, and needs no record of unused tokens.
        """
        try:
            self._uses.insert_one(
                {
                    "_id": jti,
                    "family_id": family_id,
                    "user_id": user_id,
                    "used_at": datetime.now(UTC),
                    "expires_at": expires_at,
                }
            )
        except DuplicateKeyError:
            return False
        return True
