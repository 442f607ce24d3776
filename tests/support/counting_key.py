"""A public key that counts the signatures it checks: how tests see what was verified again."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec


class CountingKey(ec.EllipticCurvePublicKey):
    """Delegates the math to ``key``; appends to ``counter`` on each check. Equal only to itself,
    so a copy of the same key counts as a new key."""

    def __init__(self, key: ec.EllipticCurvePublicKey, counter: list[int] | None = None) -> None:
        self.key = key
        self.counter = [] if counter is None else counter

    @property
    def verifications(self) -> int:
        return len(self.counter)

    def verify(self, signature: Any, data: Any, signature_algorithm: Any) -> None:
        self.counter.append(1)
        self.key.verify(signature, data, signature_algorithm)

    curve = property(lambda self: self.key.curve)
    key_size = property(lambda self: self.key.key_size)

    def public_numbers(self) -> Any:
        return self.key.public_numbers()

    def public_bytes(self, encoding: Any, format: Any) -> bytes:
        return self.key.public_bytes(encoding, format)

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: Any) -> Any:
        return self
