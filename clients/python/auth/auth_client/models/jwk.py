from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="JWK")


@_attrs_define
class JWK:
    """
    Attributes:
        alg (str):
        kid (str):
        kty (str):
        use (str):
        crv (str | Unset):
        e (str | Unset):
        n (str | Unset):
        x (str | Unset):
        y (str | Unset):
    """

    alg: str
    kid: str
    kty: str
    use: str
    crv: str | Unset = UNSET
    e: str | Unset = UNSET
    n: str | Unset = UNSET
    x: str | Unset = UNSET
    y: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        alg = self.alg

        kid = self.kid

        kty = self.kty

        use = self.use

        crv = self.crv

        e = self.e

        n = self.n

        x = self.x

        y = self.y

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "alg": alg,
                "kid": kid,
                "kty": kty,
                "use": use,
            }
        )
        if crv is not UNSET:
            field_dict["crv"] = crv
        if e is not UNSET:
            field_dict["e"] = e
        if n is not UNSET:
            field_dict["n"] = n
        if x is not UNSET:
            field_dict["x"] = x
        if y is not UNSET:
            field_dict["y"] = y

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        alg = d.pop("alg")

        kid = d.pop("kid")

        kty = d.pop("kty")

        use = d.pop("use")

        crv = d.pop("crv", UNSET)

        e = d.pop("e", UNSET)

        n = d.pop("n", UNSET)

        x = d.pop("x", UNSET)

        y = d.pop("y", UNSET)

        jwk = cls(
            alg=alg,
            kid=kid,
            kty=kty,
            use=use,
            crv=crv,
            e=e,
            n=n,
            x=x,
            y=y,
        )

        return jwk
