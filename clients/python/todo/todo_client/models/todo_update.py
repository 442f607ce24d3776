from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.todo_update_priority import TodoUpdatePriority
from ..types import UNSET, Unset

T = TypeVar("T", bound="TodoUpdate")


@_attrs_define
class TodoUpdate:
    """
    Attributes:
        done (bool | Unset):
        due (datetime.datetime | None | Unset): ISO 8601 with a timezone; stored in UTC, in milliseconds.
        notes (str | Unset):
        priority (TodoUpdatePriority | Unset):
        tags (list[str] | Unset): At most 20 unique tags of 1 to 32 characters; stored trimmed and in lower case (tags
            that differ only in case or surrounding spaces are one, and blank ones are dropped).
        title (str | Unset):  Example: Water the plants.
    """

    done: bool | Unset = UNSET
    due: datetime.datetime | None | Unset = UNSET
    notes: str | Unset = UNSET
    priority: TodoUpdatePriority | Unset = UNSET
    tags: list[str] | Unset = UNSET
    title: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        done = self.done

        due: None | str | Unset
        if isinstance(self.due, Unset):
            due = UNSET
        elif isinstance(self.due, datetime.datetime):
            due = self.due.isoformat()
        else:
            due = self.due

        notes = self.notes

        priority: str | Unset = UNSET
        if not isinstance(self.priority, Unset):
            priority = self.priority.value

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        title = self.title

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if done is not UNSET:
            field_dict["done"] = done
        if due is not UNSET:
            field_dict["due"] = due
        if notes is not UNSET:
            field_dict["notes"] = notes
        if priority is not UNSET:
            field_dict["priority"] = priority
        if tags is not UNSET:
            field_dict["tags"] = tags
        if title is not UNSET:
            field_dict["title"] = title

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        done = d.pop("done", UNSET)

        def _parse_due(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                due_type_0 = datetime.datetime.fromisoformat(data)

                return due_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        due = _parse_due(d.pop("due", UNSET))

        notes = d.pop("notes", UNSET)

        _priority = d.pop("priority", UNSET)
        priority: TodoUpdatePriority | Unset
        if isinstance(_priority, Unset):
            priority = UNSET
        else:
            priority = TodoUpdatePriority(_priority)

        tags = cast(list[str], d.pop("tags", UNSET))

        title = d.pop("title", UNSET)

        todo_update = cls(
            done=done,
            due=due,
            notes=notes,
            priority=priority,
            tags=tags,
            title=title,
        )

        return todo_update
