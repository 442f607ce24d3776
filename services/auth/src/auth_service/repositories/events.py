"""EventRepository: the account events, an append-only log numbered without gaps a reader skips.

Each event gets the next number of a counter, then is inserted under it. Two writers may
insert out of order (5 after 6), so a reader must never move past a number that is not there
yet: the feed stops at the first gap, unless the event after it has been there long enough
that the gap can only be a number whose writer died (it is never filled).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import Document, mongo

COLLECTION = "account_events"
COUNTERS = "counters"
_COUNTER = "account_events"
#: A gap older than this is a number its writer never used (it died, or lost a race).
HOLE_AFTER = timedelta(seconds=10)


class EventRepository:
    """The account_events collection: ``_id`` is the event's sequence number."""

    @property
    def _events(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def publish(self, event: Document, *, retention: timedelta) -> None:
        """Append ``event`` (its ``id`` stable); publishing the same id again does nothing."""
        if self._events.find_one({"id": event["id"]}, projection={"_id": 1}) is not None:
            return
        counter = mongo.collection(COUNTERS).find_one_and_update(
            {"_id": _COUNTER},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None  # an upsert returns the document
        now = datetime.now(UTC)
        try:
            self._events.insert_one(
                {
                    **event,
                    "_id": counter["value"],
                    "published_at": now,
                    "expires_at": now + retention,
                }
            )
        except DuplicateKeyError:  # a concurrent publisher of the same id won: a hole
            return

    def after(self, *, cursor: int, limit: int) -> tuple[list[Document], bool]:
        """Events after ``cursor`` in order, never past a gap that may still fill; has_more."""
        found = list(
            self._events.find({"_id": {"$gt": cursor}}).sort("_id", ASCENDING).limit(limit + 1)
        )
        settled_before = datetime.now(UTC) - HOLE_AFTER
        events: list[Document] = []
        expected = cursor + 1
        for event in found[:limit]:
            if event["_id"] != expected and event["published_at"] > settled_before:
                return events, False  # a gap its writer may still fill: ask again later
            events.append(event)
            expected = event["_id"] + 1
        return events, len(found) > limit

    def head(self) -> int:
        """The last number given out (0 before the first event)."""
        counter = mongo.collection(COUNTERS).find_one({"_id": _COUNTER})
        return int(counter["value"]) if counter else 0

    def oldest(self) -> int | None:
        """The number of the oldest event still kept."""
        first = self._events.find_one({}, sort=[("_id", ASCENDING)], projection={"_id": 1})
        return None if first is None else int(first["_id"])


#: The account events, for every view of the service.
events = EventRepository()
