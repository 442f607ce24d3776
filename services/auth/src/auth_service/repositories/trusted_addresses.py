"""TrustedAddressRepository: the addresses an account logged in from, exempt from its
per-username login limit until its next revoke-all (or after a while)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from flask import current_app
from pymongo.collection import Collection

from factory_core import Document, mongo

COLLECTION = "trusted_addresses"


def address_key(address: str) -> str:
    """The unit a client address is counted in: the address for IPv4, its /64 for IPv6.

    One IPv6 host commonly holds a whole /64: counting single addresses would let it rotate
    through 2^64 of them.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class TrustedAddressRepository:
    """Addresses an account logged in from, until its next revoke-all (or after a while).

    Looked up by (username, address), so that an unknown username costs the same lookup as a
    known one; trusted only for the same account at the same token version.
    """

    @property
    def _trusted(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    @staticmethod
    def _id(username_key: str, address: str) -> str:
        return f"{username_key}|{address_key(address)}"

    def is_trusted(self, *, username_key: str, address: str, user: Document | None) -> bool:
        found = self._trusted.find_one(
            {"_id": self._id(username_key, address), "expires_at": {"$gt": datetime.now(UTC)}}
        )
        return (
            user is not None
            and found is not None
            and found["user_id"] == user["_id"]
            and found["token_version"] == int(user.get("token_version", 0))
        )

    def remember(
        self, *, username_key: str, address: str, user_id: ObjectId, token_version: int
    ) -> None:
        seconds = int(current_app.config["LOGIN_TRUSTED_ADDRESS_SECONDS"])
        self._trusted.replace_one(
            {"_id": self._id(username_key, address)},
            {
                "user_id": user_id,
                "token_version": token_version,
                "expires_at": datetime.now(UTC) + timedelta(seconds=seconds),
            },
            upsert=True,
        )

    def erase(self, *, user_id: ObjectId) -> None:
        """Every address of a deleted account (they name it and where it logged in from)."""
        self._trusted.delete_many({"user_id": user_id})


#: The trusted addresses, for the login view and the rate limits.
trusted_addresses = TrustedAddressRepository()
