"""SessionRepository: one record per login session (a refresh-token family), for its owner to
see and end.

The tokens stay the authority: ending a session revokes its family through the revocation
feed, and a record only describes it (when it began and was last refreshed, from what kind
of client and network). An ended record stays, marked, until its last refresh token would
have expired, so that a refresh racing the end cannot bring it back.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import Document, Page, find_page, mongo

COLLECTION = "sessions"
#: Newest first; the family id breaks ties.
ORDER = [("created_at", -1), ("_id", -1)]


class SessionRepository:
    @property
    def _sessions(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    @staticmethod
    def _live(user_id: str) -> Document:
        return {"user_id": user_id, "ended_at": None, "expires_at": {"$gt": datetime.now(UTC)}}

    def start(
        self, *, session_id: str, user_id: str, client: str, address: str, expires_at: datetime
    ) -> None:
        """Record a login's new session."""
        now = datetime.now(UTC)
        self._sessions.insert_one(
            {
                "_id": session_id,
                "user_id": user_id,
                "created_at": now,
                "last_used_at": now,
                "expires_at": expires_at,
                "client": client,
                "address": address,
                "ended_at": None,
            }
        )

    def touch(
        self, *, session_id: str, user_id: str, client: str, address: str, expires_at: datetime
    ) -> None:
        """Record a refresh of the session: when, from where, and its new end. A session from
        before sessions were recorded is recorded now; an ended one stays ended."""
        now = datetime.now(UTC)
        update: dict[str, Any] = {
            "$set": {"last_used_at": now, "client": client, "address": address},
            "$max": {"expires_at": expires_at},
            "$setOnInsert": {"user_id": user_id, "created_at": now},
        }
        # Ended meanwhile: the upsert meets the ended record's _id, and the record stays ended.
        with contextlib.suppress(DuplicateKeyError):
            self._sessions.update_one({"_id": session_id, "ended_at": None}, update, upsert=True)

    def find_live(self, *, user_id: str, session_id: str) -> Document | None:
        return self._sessions.find_one({"_id": session_id, **self._live(user_id)})

    def live_ids(self, *, user_id: str) -> list[str]:
        found = self._sessions.find(self._live(user_id), projection={"_id": 1})
        return [str(each["_id"]) for each in found]

    def list_page(self, *, user_id: str, page: Page) -> list[Document]:
        """One page of the user's live sessions, newest first (``find_page``)."""
        return find_page(self._sessions, self._live(user_id), page)

    def end(self, *, user_id: str, session_ids: list[str]) -> None:
        """Mark sessions ended (their tokens are revoked by the caller first)."""
        self._sessions.update_many(
            {"_id": {"$in": session_ids}, "user_id": user_id, "ended_at": None},
            {"$set": {"ended_at": datetime.now(UTC)}},
        )

    def end_all(self, *, user_id: str) -> None:
        """Mark every session of the user ended (a revoke-all ended their tokens)."""
        self._sessions.update_many(
            {"user_id": user_id, "ended_at": None}, {"$set": {"ended_at": datetime.now(UTC)}}
        )

    def erase(self, *, user_id: str) -> None:
        """Delete every record of the user (the account is being deleted)."""
        self._sessions.delete_many({"user_id": user_id})


#: The sessions collection.
sessions = SessionRepository()
