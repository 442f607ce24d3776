from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MfaLogin")


@_attrs_define
class MfaLogin:
    """
    Attributes:
        challenge (str):
        code (str): The authenticator app's current six-digit code, or one of the recovery codes given at enrolment
            (each works once).
    """

    challenge: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        challenge = self.challenge

        code = self.code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "challenge": challenge,
                "code": code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        challenge = d.pop("challenge")

        code = d.pop("code")

        mfa_login = cls(
            challenge=challenge,
            code=code,
        )

        return mfa_login
