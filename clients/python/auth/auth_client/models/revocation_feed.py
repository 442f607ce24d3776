from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.revocation import Revocation


T = TypeVar("T", bound="RevocationFeed")


@_attrs_define
class RevocationFeed:
    """
    Attributes:
        has_more (bool):
        items (list[Revocation]):
        now (Any):
    """

    has_more: bool
    items: list[Revocation]
    now: Any

    def to_dict(self) -> dict[str, Any]:
        has_more = self.has_more

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        now = self.now

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "has_more": has_more,
                "items": items,
                "now": now,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.revocation import Revocation  # noqa: PLC0415

        d = dict(src_dict)
        has_more = d.pop("has_more")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = Revocation.from_dict(items_item_data)

            items.append(items_item)

        now = d.pop("now")

        revocation_feed = cls(
            has_more=has_more,
            items=items,
            now=now,
        )

        return revocation_feed
