"""UserRepository: the users collection, unique on the normalized username."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from factory_core import Document, Page, find_page, mongo, parse_object_id

COLLECTION = "users"


def display_username(raw: str) -> str:
    """The form a username is shown in: Unicode NFKC, surrounding whitespace removed."""
    return unicodedata.normalize("NFKC", raw).strip()


def username_key(raw: str) -> str:
    """The form usernames are compared in (case-insensitive, NFKC): unique in the collection.

    A stored key rather than a collation: RFC 8265's rule for usernames (width mapping, case
    folding, then normalization) is exactly this, in Python, the same on every server and ICU
    version; and the same key names a user's rate-limit buckets, outside the database.
    """
    return unicodedata.normalize("NFKC", display_username(raw).casefold())


def email_key(raw: str) -> str:
    """The form e-mail addresses are compared in (case-insensitive)."""
    return raw.strip().casefold()


class UsernameTakenError(Exception):
    """Another account already has this (normalized) username."""


class UserRepository:
    """Accounts: credentials, roles, the disabled flag and the token cut-off time."""

    @property
    def _users(self) -> Collection[Document]:
        return mongo.collection(COLLECTION)

    def create(
        self, *, username: str, password_hash: str, email: str | None, roles: Sequence[str]
    ) -> Document:
        """Insert an account; raise UsernameTakenError if the normalized name exists."""
        now = datetime.now(UTC).replace(microsecond=0)
        document: Document = {
            "username": display_username(username),
            "username_key": username_key(username),
            "email": email,
            "email_key": email_key(email) if email else None,
            "email_verified_at": None,
            "password_hash": password_hash,
            "roles": list(roles),
            "disabled": False,
            "token_version": 0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            result = self._users.insert_one(document)
        except DuplicateKeyError:
            raise UsernameTakenError(username) from None
        document["_id"] = result.inserted_id
        return document

    def find_by_id(self, *, user_id: str) -> Document | None:
        object_id = parse_object_id(user_id)
        return None if object_id is None else self._users.find_one({"_id": object_id})

    def find_by_username(self, *, username: str) -> Document | None:
        return self._users.find_one({"username_key": username_key(username)})

    def replace_password_hash(
        self,
        *,
        user_id: ObjectId,
        checked_hash: str,
        password_hash: str,
        token_version: int | None = None,
    ) -> bool:
        """Store a new hash if the account's hash is still ``checked_hash`` (the one the caller
        verified); whether it was. A change made meanwhile (a reset, another change) is never
        undone. With ``token_version`` (a password change), raise the account's token version
        in the same update, so that no request sees one without the other."""
        update: Document = {
            "$set": {"password_hash": password_hash, "updated_at": datetime.now(UTC)}
        }
        if token_version is not None:
            update["$max"] = {"token_version": token_version}
        replaced = self._users.update_one({"_id": user_id, "password_hash": checked_hash}, update)
        return replaced.matched_count == 1

    def update_email(self, *, user_id: ObjectId, email: str | None) -> Document | None:
        """Set a different address; a new one is unverified until its owner follows the link.
        The account as it is after the change; None if the address was already ``email`` or
        the account is gone (then nothing changed)."""
        return self._users.find_one_and_update(
            {"_id": user_id, "email": {"$ne": email}},
            {
                "$set": {
                    "email": email,
                    "email_key": email_key(email) if email else None,
                    "email_verified_at": None,
                    "updated_at": datetime.now(UTC),
                }
            },
            return_document=ReturnDocument.AFTER,
        )

    def mark_email_verified(self, *, user_id: ObjectId, email: str) -> Document | None:
        """Verified, if the account still has this address (not one changed since) and is
        active (not disabled, not being deleted)."""
        return self._users.find_one_and_update(
            {"_id": user_id, "email": email, "disabled": False, "deleting": {"$exists": False}},
            {"$set": {"email_verified_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER,
        )

    def start_mfa_enrolment(self, *, user_id: ObjectId, secret: str) -> bool:
        """Keep ``secret`` as the enrolment waiting for its first code (replacing an earlier
        one); False when two-factor sign-in is on already."""
        started = self._users.update_one(
            {"_id": user_id, "mfa": {"$exists": False}},
            {"$set": {"mfa_pending": {"secret": secret, "created_at": datetime.now(UTC)}}},
        )
        return started.matched_count == 1

    def enable_mfa(
        self, *, user_id: ObjectId, secret: str, step: int, recovery_codes: list[str]
    ) -> bool:
        """Turn two-factor sign-in on with the pending ``secret`` (its first code was of time
        step ``step``) and the recovery codes' digests; False if the enrolment changed since."""
        enabled = self._users.update_one(
            {"_id": user_id, "mfa_pending.secret": secret, "mfa": {"$exists": False}},
            {
                "$set": {
                    "mfa": {
                        "secret": secret,
                        "enabled_at": datetime.now(UTC),
                        "last_step": step,
                        "recovery_codes": recovery_codes,
                    },
                    "updated_at": datetime.now(UTC),
                },
                "$unset": {"mfa_pending": ""},
            },
        )
        return enabled.matched_count == 1

    def use_totp_step(self, *, user_id: ObjectId, step: int) -> bool:
        """Spend time step ``step`` of the account's codes: True once, for a step later than any
        used before (a code cannot be replayed, nor an older one used after a newer)."""
        used = self._users.update_one(
            {"_id": user_id, "mfa.last_step": {"$lt": step}}, {"$set": {"mfa.last_step": step}}
        )
        return used.matched_count == 1

    def use_recovery_code(self, *, user_id: ObjectId, digest: str) -> bool:
        """Spend the recovery code with ``digest``: True once."""
        used = self._users.update_one(
            {"_id": user_id, "mfa.recovery_codes": digest},
            {"$pull": {"mfa.recovery_codes": digest}},
        )
        return used.matched_count == 1

    def disable_mfa(self, *, user_id: ObjectId) -> bool:
        """Turn two-factor sign-in off; False if it was off."""
        disabled = self._users.update_one(
            {"_id": user_id, "mfa": {"$exists": True}},
            {"$unset": {"mfa": "", "mfa_pending": ""}, "$set": {"updated_at": datetime.now(UTC)}},
        )
        return disabled.matched_count == 1

    def find_for_recovery(self, *, identifier: str) -> list[Document]:
        """The accounts a reset request names (a username, or an address) whose address is
        verified, and that can log in."""
        if "@" in identifier:
            query: Document = {"email_key": email_key(identifier)}
        else:
            query = {"username_key": username_key(identifier)}
        query.update(
            {"email_verified_at": {"$ne": None}, "disabled": False, "deleting": {"$exists": False}}
        )
        return list(self._users.find(query).limit(10))

    def disable(self, *, user_id: ObjectId, token_version: int) -> Document | None:
        """Mark the account disabled, raising its token version (tokens below it are void)."""
        return self._users.find_one_and_update(
            {"_id": user_id},
            {
                "$set": {"disabled": True, "updated_at": datetime.now(UTC)},
                "$max": {"token_version": token_version},
            },
            return_document=ReturnDocument.AFTER,
        )

    def add_role(self, *, user_id: ObjectId, role: str) -> None:
        self._users.update_one(
            {"_id": user_id},
            {"$addToSet": {"roles": role}, "$set": {"updated_at": datetime.now(UTC)}},
        )

    def mark_deleting(self, *, user_id: ObjectId, token_version: int, event: Document) -> bool:
        """In one update: the account is being deleted (no login, no token), and ``event`` is
        recorded with it, to publish (the outbox: it survives a crash before publication)."""
        marked = self._users.update_one(
            {"_id": user_id},
            {
                "$set": {"deleting": True, "outbox": [event], "outbox_at": datetime.now(UTC)},
                "$max": {"token_version": token_version},
            },
        )
        return marked.matched_count == 1

    def with_unpublished_events(self, *, older_than: datetime, limit: int) -> list[Document]:
        """Accounts whose events were recorded before ``older_than`` and not published since."""
        return list(self._users.find({"outbox_at": {"$lt": older_than}}).limit(limit))

    def delete_published(self, *, user_id: ObjectId, event_id: str) -> None:
        """Delete the account once its event ``event_id`` is published (idempotent)."""
        self._users.delete_one({"_id": user_id, "outbox.id": event_id})

    def list_page(self, *, page: Page) -> tuple[list[Document], int]:
        """One page of the accounts in creation order (ObjectIds grow with time), and how
        many there are: the collection's own count (O(1)), or a count for the deprecated page
        number."""
        found = find_page(self._users, {}, page)
        if page.numbered:
            return found, self._users.count_documents({})
        return found, self._users.estimated_document_count()


#: The users collection, for every view and command of the service.
users = UserRepository()
