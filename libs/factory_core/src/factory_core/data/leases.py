"""Leases: one holder works on a document at a time; another takes over once it is gone.
A lease is two fields of the document: ``holder`` (None when free) and ``lease_until``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core.data.mongo import Document, mongo

#: How far apart the clocks of two hosts may be: a lease is taken over only this long after
#: its holder's ``lease_until``.
CLOCK_SKEW = timedelta(seconds=2)
#: How often a waiter looks again at a lease another holds.
POLL_SECONDS = 0.05

Result = TypeVar("Result")


@dataclass(frozen=True)
class Held:
    """A lease held on one document, by ``holder`` (writes through it are conditional on it)."""

    leases: Leases
    document: Document
    holder: str

    @property
    def _mine(self) -> Document:
        return {"_id": self.document["_id"], "holder": self.holder}

    def renew(self) -> bool:
        """Extend the lease by its duration from now; whether it is still held."""
        return self.update({})

    def update(self, update: Mapping[str, Any]) -> bool:
        """Apply ``update`` (renewing the lease) if still held; whether it was."""
        changes = {**update, "$set": {**update.get("$set", {}), "lease_until": self.leases.until()}}
        return self.leases.collection.update_one(self._mine, changes).matched_count == 1

    def release(self, update: Mapping[str, Any] | None = None) -> bool:
        """End the lease now, applying ``update`` with it, if still held: free for anyone."""
        changes = {**(update or {}), "$set": {**(update or {}).get("$set", {}), "holder": None}}
        return self.leases.collection.update_one(self._mine, changes).matched_count == 1

    def delete(self) -> bool:
        """Remove the document (the work is done) if the lease is still held."""
        return self.leases.collection.delete_one(self._mine).deleted_count == 1


@dataclass(frozen=True)
class Leases:
    """Leases on the documents of one collection, each lasting ``duration``."""

    collection_name: str
    duration: timedelta
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def collection(self) -> Collection[Document]:
        return mongo.collection(self.collection_name)

    def until(self) -> datetime:
        return self.clock() + self.duration

    @property
    def taken_over_after(self) -> timedelta:
        """How long after its last renewal a lease may be taken over: its duration and the
        clocks' allowed skew."""
        return self.duration + CLOCK_SKEW

    def claim(self, document: Mapping[str, Any]) -> Held | None:
        """Insert ``document`` held by a new holder; None when its ``_id`` (or another unique
        key) exists already: someone else claimed it first."""
        holder = uuid.uuid4().hex
        stored = {**document, "holder": holder, "lease_until": self.until()}
        try:
            self.collection.insert_one(stored)
        except DuplicateKeyError:
            return None
        return Held(self, stored, holder)

    def take(
        self,
        query: Mapping[str, Any],
        *,
        holder: str | None = None,
        sort: Sequence[tuple[str, int]] | None = None,
        upsert: bool = False,
        set_on_insert: Mapping[str, Any] | None = None,
    ) -> Held | None:
        """The first document matching ``query`` whose lease is free (released, or run out),
        or already ``holder``'s, now held; None when there is none. ``upsert``: create the
        document when none matches ``query`` at all (held; None if another created it)."""
        free: list[Document] = [
            {"holder": None},
            {"lease_until": {"$lt": self.clock() - CLOCK_SKEW}},
        ]
        if holder is not None:
            free.append({"holder": holder})
        holder = holder or uuid.uuid4().hex
        update: dict[str, Any] = {"$set": {"holder": holder, "lease_until": self.until()}}
        if set_on_insert:
            update["$setOnInsert"] = dict(set_on_insert)
        try:
            taken = self.collection.find_one_and_update(
                {**query, "$or": free},
                update,
                sort=list(sort) if sort else None,
                upsert=upsert,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # an upsert: the document exists, and another holds it
            return None
        return None if taken is None else Held(self, taken, holder)

    def wait(
        self,
        document_id: Any,
        *,
        result: Callable[[Document], Result | None],
        seconds: float,
        busy: Callable[[], Exception],
        take_if: Mapping[str, Any] | None = None,
    ) -> Result | Held | None:
        """Wait for the holder of ``document_id``'s lease: its ``result(document)`` once there
        is one, or the lease (held) once its holder is gone (matching ``take_if`` too); None
        when the document itself is gone. Raise ``busy()`` after ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            document = self.collection.find_one({"_id": document_id})
            if document is None:
                return None
            found = result(document)
            if found is not None:
                return found
            held = self.take({"_id": document_id, **(take_if or {})})
            if held is not None:
                return held
            if time.monotonic() >= deadline:
                raise busy()
            time.sleep(POLL_SECONDS)
