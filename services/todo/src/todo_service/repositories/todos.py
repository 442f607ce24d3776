"""TodoRepository: every pymongo call on todos; ownership and versions are part of each filter."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection as Sized
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collation import Collation
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from factory_core import Document, Page, find_page, mongo, utc_now

COLLECTION = "todos"
#: One document per owner: how many todos they have, kept with every create and delete.
COUNTS = "todo_counts"
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2}
# Sort keys map to stored fields: priority by rank (not alphabetically). _id breaks ties, so
# pages never overlap or skip.
_SORT_FIELDS = {
    "created_at": "created_at",
    "due": "due",
    "priority": "priority_rank",
    "title": "title",
}
#: Titles sort as people read them: case and accents aside first ("apple" < "Éclair" < "zoo").
#: The query and the index it walks must use the same collation.
TITLE_COLLATION = Collation(locale="en", strength=2)


def sort_order(sort: str) -> list[tuple[str, int]]:
    """The stored order of a sort key of GET /todos (``-`` for descending), ``_id`` last."""
    direction = DESCENDING if sort.startswith("-") else ASCENDING
    return [(_SORT_FIELDS[sort.lstrip("-")], direction), ("_id", direction)]


class TodoLimitReachedError(Exception):
    """The owner has as many todos as a user may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} todos per user")
        self.limit = limit


@dataclass(frozen=True)
class TodoFilter:
    """What GET /todos may filter on (already validated by TodoQueryArgsSchema)."""

    done: bool | None = None
    tag: str | None = None
    priority: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    q: str | None = None


def literal_pattern(text: str) -> str:
    """A regular expression matching ``text`` literally (never one a user wrote).

    re.escape leaves a NUL as it is, and MongoDB refuses a pattern holding one: it is
    written as the escape ``\\x00`` instead.
    """
    return re.escape(text).replace("\x00", "\\x00")


def to_document(owner: str, fields: Mapping[str, Any], *, now: datetime) -> Document:
    """A new todo's stored form from validated fields."""
    document: Document = {"owner": owner, **fields, "created_at": now, "updated_at": now}
    document["version"] = 1
    return _with_derived(document)


def _with_derived(fields: Document) -> Document:
    if "priority" in fields:
        fields["priority_rank"] = PRIORITY_RANK[fields["priority"]]
    return fields


class TodoRepository:
    """The todos collection. Every method is scoped to one owner."""

    @property
    def _todos(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def find_for_owner(
        self, *, owner: str, filters: TodoFilter, page: Page
    ) -> tuple[list[Document], int | None]:
        """One page of the owner's todos (``find_page``), and the total where it is cheap: the
        owner's counter for the unfiltered list, a count for the deprecated page number."""
        query = self._query(owner, filters)
        collation = TITLE_COLLATION if page.order[0][0] == "title" else None
        found = find_page(self._todos, query, page, collation=collation)
        if page.numbered:
            return found, self._todos.count_documents(query, collation=collation)
        return found, self.count_for_owner(owner=owner) if filters == TodoFilter() else None

    def count_for_owner(self, *, owner: str) -> int:
        """How many todos ``owner`` has: one counter document (kept by create and delete)."""
        counter = self._counts.find_one({"_id": owner})
        if counter is None:  # none created yet; or todos from before counters were kept
            return self._todos.count_documents({"owner": owner})
        return int(counter["count"])

    def get_for_owner(self, *, owner: str, todo_id: ObjectId) -> Document | None:
        return self._todos.find_one({"_id": todo_id, "owner": owner})

    def create(self, *, document: Document, limit: int) -> Document:
        """Insert ``document``; with a preset ``_id`` that exists, return the stored one.

        Idempotent creates preset the ``_id``: finishing the work of a first attempt that
        died after its insert must not fail, nor create a second todo. Raise
        TodoLimitReachedError when the owner already has ``limit`` todos.
        """
        owner = document["owner"]
        self._reserve_slot(owner=owner, limit=limit)
        try:
            self._todos.insert_one(document)
        except DuplicateKeyError:
            self._release_slot(owner=owner)
            stored = self._todos.find_one({"_id": document["_id"], "owner": owner})
            if stored is None:
                raise
            return stored
        except Exception:
            with contextlib.suppress(PyMongoError):  # best effort: a slot lost, not a todo
                self._release_slot(owner=owner)
            raise
        return document

    @property
    def _counts(self) -> Collection[Document]:
        return mongo.collection(COUNTS)

    def _reserve_slot(self, *, owner: str, limit: int) -> None:
        """Count one more todo for ``owner``, atomically, unless that makes more than ``limit``."""
        try:
            before = self._counts.find_one_and_update(
                {"_id": owner, "count": {"$lt": limit}}, {"$inc": {"count": 1}}, upsert=True
            )
        except DuplicateKeyError:  # the owner's count exists and is at the limit
            raise TodoLimitReachedError(limit) from None
        if before is None:
            # The owner's first count: start from what is already stored (todos from before
            # counts were kept), once.
            existing = self._todos.count_documents({"owner": owner})
            if existing:
                self._counts.update_one({"_id": owner}, {"$inc": {"count": existing}})
            if existing >= limit:
                self._release_slot(owner=owner)
                raise TodoLimitReachedError(limit)

    def _release_slot(self, *, owner: str) -> None:
        self._counts.update_one({"_id": owner}, {"$inc": {"count": -1}})

    def erase_owner(self, *, owner: str) -> int:
        """Delete every todo of ``owner`` and its count; how many todos there were."""
        erased = self._todos.delete_many({"owner": owner}).deleted_count
        self._counts.delete_one({"_id": owner})
        return erased

    def update_if_version(
        self,
        *,
        owner: str,
        todo_id: ObjectId,
        versions: Sized[int] | None,
        changes: Mapping[str, Any],
        refused: Sized[int] = (),
    ) -> Document | None:
        """Apply ``changes`` if the todo is at one of ``versions`` (None: any) and none of
        ``refused``, atomically.

        The version check and the write are one find_one_and_update: of two concurrent
        updates from the same version, exactly one matches.
        """
        update: Document = {
            "$set": {**_with_derived(dict(changes)), "updated_at": utc_now()},
            "$inc": {"version": 1},
        }
        return self._todos.find_one_and_update(
            self._version_filter(owner, todo_id, versions, refused),
            update,
            return_document=ReturnDocument.AFTER,
        )

    def delete_if_version(
        self,
        *,
        owner: str,
        todo_id: ObjectId,
        versions: Sized[int] | None,
        refused: Sized[int] = (),
    ) -> bool:
        """Delete the todo if it is at one of ``versions`` (None: any) and none of
        ``refused``; whether it was."""
        deleted = self._todos.find_one_and_delete(
            self._version_filter(owner, todo_id, versions, refused)
        )
        if deleted is None:
            return False
        self._release_slot(owner=owner)
        return True

    @staticmethod
    def _version_filter(
        owner: str, todo_id: ObjectId, versions: Sized[int] | None, refused: Sized[int] = ()
    ) -> Document:
        query: Document = {"_id": todo_id, "owner": owner}
        version: Document = {}
        if versions is not None:
            version["$in"] = list(versions)
        if refused:
            version["$nin"] = list(refused)
        if version:
            query["version"] = version
        return query

    @staticmethod
    def _query(owner: str, filters: TodoFilter) -> Document:
        query: Document = {"owner": owner}
        if filters.done is not None:
            query["done"] = filters.done
        if filters.tag is not None:
            query["tags"] = filters.tag
        if filters.priority is not None:
            query["priority"] = filters.priority
        due: Document = {}
        if filters.due_before is not None:
            due["$lt"] = filters.due_before
        if filters.due_after is not None:
            due["$gt"] = filters.due_after
        if due:
            query["due"] = due
        if filters.q is not None:
            pattern = {"$regex": literal_pattern(filters.q), "$options": "i"}
            query["$or"] = [{"title": pattern}, {"notes": pattern}]
        return query


#: The todos collection, for every view of the service.
todos = TodoRepository()
