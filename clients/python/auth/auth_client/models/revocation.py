from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.revocation_kind import RevocationKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="Revocation")


@_attrs_define
class Revocation:
    """
    Attributes:
        expires_at (Any):
        kind (RevocationKind):
        revoked_at (Any):
        value (str): A jti, fid or sub.
        not_before (Any | Unset): Subjects only: when every token of the account was revoked. A token without a `ver`
            claim is revoked when its iat is earlier.
        version (int | Unset): Subjects only: the account's token version since this revocation; a token whose `ver`
            claim is lower is revoked.
    """

    expires_at: Any
    kind: RevocationKind
    revoked_at: Any
    value: str
    not_before: Any | Unset = UNSET
    version: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        kind = self.kind.value

        revoked_at = self.revoked_at

        value = self.value

        not_before = self.not_before

        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "expires_at": expires_at,
                "kind": kind,
                "revoked_at": revoked_at,
                "value": value,
            }
        )
        if not_before is not UNSET:
            field_dict["not_before"] = not_before
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        kind = RevocationKind(d.pop("kind"))

        revoked_at = d.pop("revoked_at")

        value = d.pop("value")

        not_before = d.pop("not_before", UNSET)

        version = d.pop("version", UNSET)

        revocation = cls(
            expires_at=expires_at,
            kind=kind,
            revoked_at=revoked_at,
            value=value,
            not_before=not_before,
            version=version,
        )

        return revocation
