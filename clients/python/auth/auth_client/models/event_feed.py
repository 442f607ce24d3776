from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.event import Event


T = TypeVar("T", bound="EventFeed")


@_attrs_define
class EventFeed:
    """
    Attributes:
        events (list[Event]):
        has_more (bool):
        head (int): The sequence of the newest event.
        oldest (int | None): The oldest sequence still kept (null: none kept).
    """

    events: list[Event]
    has_more: bool
    head: int
    oldest: int | None

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.to_dict()
            events.append(events_item)

        has_more = self.has_more

        head = self.head

        oldest: int | None
        oldest = self.oldest

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
                "has_more": has_more,
                "head": head,
                "oldest": oldest,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event import Event  # noqa: PLC0415

        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = Event.from_dict(events_item_data)

            events.append(events_item)

        has_more = d.pop("has_more")

        head = d.pop("head")

        def _parse_oldest(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        oldest = _parse_oldest(d.pop("oldest"))

        event_feed = cls(
            events=events,
            has_more=has_more,
            head=head,
            oldest=oldest,
        )

        return event_feed
