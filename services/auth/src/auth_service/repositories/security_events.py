"""SecurityEventRepository: each account's security log, appended to and never changed; kept
for AUTH_SECURITY_EVENT_RETENTION_SECONDS (MongoDB's TTL monitor) and erased with the account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.collection import Collection

from factory_core import Document, Page, find_page, mongo

COLLECTION = "security_events"
#: Newest first; the ObjectId breaks ties (and grows with time).
ORDER = [("at", -1), ("_id", -1)]


class SecurityEventRepository:
    @property
    def _events(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def append(self, *, user_id: str, event: Document, retention: timedelta) -> None:
        """Append ``event`` (its ``type`` and context) to the account's log."""
        now = datetime.now(UTC)
        self._events.insert_one(
            {
                **event,
                "_id": ObjectId(),
                "user_id": user_id,
                "at": now,
                "expires_at": now + retention,
            }
        )

    def list_page(self, *, user_id: str, page: Page) -> list[Document]:
        """One page of the account's log, newest first (``find_page``)."""
        live = {"user_id": user_id, "expires_at": {"$gt": datetime.now(UTC)}}
        return find_page(self._events, live, page)

    def erase(self, *, user_id: str) -> None:
        """Delete the account's log (the account is being deleted)."""
        self._events.delete_many({"user_id": user_id})


#: The security log.
security_events = SecurityEventRepository()
