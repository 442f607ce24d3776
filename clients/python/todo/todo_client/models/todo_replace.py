from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.todo_replace_priority import TodoReplacePriority
from ..types import UNSET, Unset

T = TypeVar("T", bound="TodoReplace")


@_attrs_define
class TodoReplace:
    """
    Attributes:
        title (str):  Example: Water the plants.
        done (bool | Unset): Left out: false.
        due (datetime.datetime | None | Unset): ISO 8601 with a timezone; stored in UTC, in milliseconds. Left out:
            null.
        notes (str | Unset): Left out: "".
        priority (TodoReplacePriority | Unset): Left out: "normal".
        tags (list[str] | Unset): At most 20 unique tags of 1 to 32 characters; stored trimmed and in lower case (tags
            that differ only in case or surrounding spaces are one, and blank ones are dropped). Left out: [].
    """

    title: str
    done: bool | Unset = UNSET
    due: datetime.datetime | None | Unset = UNSET
    notes: str | Unset = UNSET
    priority: TodoReplacePriority | Unset = UNSET
    tags: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

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

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
            }
        )
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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

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
        priority: TodoReplacePriority | Unset
        if isinstance(_priority, Unset):
            priority = UNSET
        else:
            priority = TodoReplacePriority(_priority)

        tags = cast(list[str], d.pop("tags", UNSET))

        todo_replace = cls(
            title=title,
            done=done,
            due=due,
            notes=notes,
            priority=priority,
            tags=tags,
        )

        return todo_replace
