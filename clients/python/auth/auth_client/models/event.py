from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """
    Attributes:
        id (str): Stable: a consumer may see an event twice.
        occurred_at (Any):
        sequence (int): Its place in the feed: the cursor to ask `after` next.
        subject (str): The account's id.
        type_ (str):  Example: account.deleted.
    """

    id: str
    occurred_at: Any
    sequence: int
    subject: str
    type_: str

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        occurred_at = self.occurred_at

        sequence = self.sequence

        subject = self.subject

        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "occurred_at": occurred_at,
                "sequence": sequence,
                "subject": subject,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        occurred_at = d.pop("occurred_at")

        sequence = d.pop("sequence")

        subject = d.pop("subject")

        type_ = d.pop("type")

        event = cls(
            id=id,
            occurred_at=occurred_at,
            sequence=sequence,
            subject=subject,
            type_=type_,
        )

        return event
