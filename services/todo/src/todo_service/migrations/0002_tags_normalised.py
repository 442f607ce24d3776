"""Stored tags in the form the API now writes: trimmed, lower case, each once.

The API normalises tags since this step ("Work " and "work" are one tag, and ?tag=WORK finds
it); this brings the todos written before it in line, a batch at a time. A changed todo gets a
new version (its ETag changes: a cached copy is stale). Case cannot be restored: no down().
"""

from typing import Any

from pymongo.database import Database

from factory_core import Document, in_batches


def normalised(tags: list[str]) -> list[str]:
    """``tags`` trimmed and in lower case, each once, in their order (blank ones dropped)."""
    return list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))


def _change(todo: Document) -> dict[str, Any] | None:
    tags = normalised(todo["tags"])
    if tags == todo["tags"]:
        return None
    return {"$set": {"tags": tags}, "$inc": {"version": 1}}


def up(db: Database[Document]) -> None:
    in_batches(db["todos"], {"tags.0": {"$exists": True}}, _change)
