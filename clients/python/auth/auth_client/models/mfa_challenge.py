from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MfaChallenge")


@_attrs_define
class MfaChallenge:
    """
    Attributes:
        challenge (str): Send it to /auth/login/mfa with a code.
        expires_in (int): Seconds the challenge can be used.
        mfa_required (bool):
    """

    challenge: str
    expires_in: int
    mfa_required: bool

    def to_dict(self) -> dict[str, Any]:
        challenge = self.challenge

        expires_in = self.expires_in

        mfa_required = self.mfa_required

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "challenge": challenge,
                "expires_in": expires_in,
                "mfa_required": mfa_required,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        challenge = d.pop("challenge")

        expires_in = d.pop("expires_in")

        mfa_required = d.pop("mfa_required")

        mfa_challenge = cls(
            challenge=challenge,
            expires_in=expires_in,
            mfa_required=mfa_required,
        )

        return mfa_challenge
