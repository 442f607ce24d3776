"""RevocationRepository: revoked tokens, token families and subjects, kept until moot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import Document, mongo

COLLECTION = "revocations"

Kind = Literal["token", "family", "subject"]


class RevocationRepository:
    """One record per revoked (kind, value); ``expires_at`` is when no matching token lives."""

    @property
    def _revocations(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def revoke(
        self,
        *,
        kind: Kind,
        value: str,
        expires_at: datetime,
        not_before: datetime | None = None,
        version: int | None = None,
    ) -> None:
        """Record (or renew) a revocation; idempotent, safe under concurrent calls.

        Subjects carry the account's new token ``version``: tokens with a lower ``ver`` are
        revoked (and ``not_before``, for tokens from before versions).
        """
        update: dict[str, Any] = {
            "$set": {"revoked_at": datetime.now(UTC)},
            "$max": {"expires_at": expires_at},
        }
        if not_before is not None:
            update["$max"]["not_before"] = not_before
        if version is not None:
            update["$max"]["version"] = version
        selector = {"kind": kind, "value": value}
        try:
            self._revocations.update_one(selector, update, upsert=True)
        except DuplicateKeyError:
            # A concurrent upsert created the record first; now this one updates it.
            self._revocations.update_one(selector, update)

    def is_revoked(self, *, jti: str, family_id: str, user_id: str, version: int) -> bool:
        """Whether a live revocation covers this token: its jti, its family, or its subject
        at a token version above the token's."""
        found = self._revocations.find_one(
            {
                "expires_at": {"$gt": datetime.now(UTC)},
                "$or": [
                    {"kind": "token", "value": jti},
                    {"kind": "family", "value": family_id},
                    {"kind": "subject", "value": user_id, "version": {"$gt": version}},
                ],
            },
            projection={"_id": 1},
        )
        return found is not None

    def since(self, *, since: datetime | None, limit: int) -> tuple[list[Document], bool]:
        """Live revocations with revoked_at >= since, oldest first; and whether more remain."""
        query: dict[str, Any] = {"expires_at": {"$gt": datetime.now(UTC)}}
        if since is not None:
            query["revoked_at"] = {"$gte": since}
        found = list(
            self._revocations.find(query)
            .sort([("revoked_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit + 1)
        )
        return found[:limit], len(found) > limit


#: The revocations collection.
revocations = RevocationRepository()
