from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="User")


@_attrs_define
class User:
    """
    Attributes:
        created_at (datetime.datetime | Unset):
        email (None | str | Unset):
        email_verified (bool | Unset): Whether the owner followed the link mailed to `email`; only a verified address is
            used to reset the password.
        id (str | Unset):
        mfa_enabled (bool | Unset): Whether sign-in needs a one-time code.
        roles (list[str] | Unset):
        username (str | Unset):
    """

    created_at: datetime.datetime | Unset = UNSET
    email: None | str | Unset = UNSET
    email_verified: bool | Unset = UNSET
    id: str | Unset = UNSET
    mfa_enabled: bool | Unset = UNSET
    roles: list[str] | Unset = UNSET
    username: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        created_at: str | Unset = UNSET
        if not isinstance(self.created_at, Unset):
            created_at = self.created_at.isoformat()

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        email_verified = self.email_verified

        id = self.id

        mfa_enabled = self.mfa_enabled

        roles: list[str] | Unset = UNSET
        if not isinstance(self.roles, Unset):
            roles = self.roles

        username = self.username

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if email is not UNSET:
            field_dict["email"] = email
        if email_verified is not UNSET:
            field_dict["email_verified"] = email_verified
        if id is not UNSET:
            field_dict["id"] = id
        if mfa_enabled is not UNSET:
            field_dict["mfa_enabled"] = mfa_enabled
        if roles is not UNSET:
            field_dict["roles"] = roles
        if username is not UNSET:
            field_dict["username"] = username

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _created_at = d.pop("created_at", UNSET)
        created_at: datetime.datetime | Unset
        if isinstance(_created_at, Unset):
            created_at = UNSET
        else:
            created_at = datetime.datetime.fromisoformat(_created_at)

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        email_verified = d.pop("email_verified", UNSET)

        id = d.pop("id", UNSET)

        mfa_enabled = d.pop("mfa_enabled", UNSET)

        roles = cast(list[str], d.pop("roles", UNSET))

        username = d.pop("username", UNSET)

        user = cls(
            created_at=created_at,
            email=email,
            email_verified=email_verified,
            id=id,
            mfa_enabled=mfa_enabled,
            roles=roles,
            username=username,
        )

        return user
