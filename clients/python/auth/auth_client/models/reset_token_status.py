from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ResetTokenStatus")


@_attrs_define
class ResetTokenStatus:
    """
    Attributes:
        expires_at (Any):
        valid (bool):
    """

    expires_at: Any
    valid: bool

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        valid = self.valid

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "expires_at": expires_at,
                "valid": valid,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        valid = d.pop("valid")

        reset_token_status = cls(
            expires_at=expires_at,
            valid=valid,
        )

        return reset_token_status
