from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.todo_priority import TodoPriority

T = TypeVar("T", bound="Todo")


@_attrs_define
class Todo:
    """
    Attributes:
        created_at (datetime.datetime):
        done (bool):
        due (datetime.datetime | None):
        etag (str): The todo's strong ETag, as in the ETag header: `"<id>.<version>"`, quotes included. Send it as If-
            Match to change or delete exactly this version (a list item's too, with no GET first). Example:
            "665f1c2e9b1e8a3d4c5b6a79.3".
        id (str):  Example: 665f1c2e9b1e8a3d4c5b6a79.
        notes (str):
        priority (TodoPriority):
        tags (list[str]):
        title (str):
        updated_at (datetime.datetime):
        version (int): Starts at 1 and increases by one on every change.
    """

    created_at: datetime.datetime
    done: bool
    due: datetime.datetime | None
    etag: str
    id: str
    notes: str
    priority: TodoPriority
    tags: list[str]
    title: str
    updated_at: datetime.datetime
    version: int

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        done = self.done

        due: None | str
        if isinstance(self.due, datetime.datetime):
            due = self.due.isoformat()
        else:
            due = self.due

        etag = self.etag

        id = self.id

        notes = self.notes

        priority = self.priority.value

        tags = self.tags

        title = self.title

        updated_at = self.updated_at.isoformat()

        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "created_at": created_at,
                "done": done,
                "due": due,
                "etag": etag,
                "id": id,
                "notes": notes,
                "priority": priority,
                "tags": tags,
                "title": title,
                "updated_at": updated_at,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        done = d.pop("done")

        def _parse_due(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                due_type_0 = datetime.datetime.fromisoformat(data)

                return due_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        due = _parse_due(d.pop("due"))

        etag = d.pop("etag")

        id = d.pop("id")

        notes = d.pop("notes")

        priority = TodoPriority(d.pop("priority"))

        tags = cast(list[str], d.pop("tags"))

        title = d.pop("title")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        version = d.pop("version")

        todo = cls(
            created_at=created_at,
            done=done,
            due=due,
            etag=etag,
            id=id,
            notes=notes,
            priority=priority,
            tags=tags,
            title=title,
            updated_at=updated_at,
            version=version,
        )

        return todo
