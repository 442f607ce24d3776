"""Password hashing (argon2id) and the password policy: length bounds, no common passwords."""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Mapping
from importlib import resources
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import Flask, current_app

EXTENSION_KEY = "auth.passwords"

MIN_LENGTH = 8
MAX_LENGTH = 1024


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password).casefold()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, normalized as candidates are."""
    text = resources.files("auth_service").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        _normalize(line.strip())
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """Whether ``password`` (case and Unicode form aside) is on the common-password list."""
    return _normalize(password) in common_passwords()


def hasher_from_config(config: Mapping[str, Any]) -> PasswordHasher:
    """An argon2id hasher with the configured parameters (minimal ones in fast testing)."""
    if config["ENV"] == "testing" and config["ARGON2_FAST_IN_TESTING"]:
        # Minimal cost (ARGON2_FAST_IN_TESTING): hashing must not dominate the test suite.
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    return PasswordHasher(
        time_cost=int(config["ARGON2_TIME_COST"]),
        memory_cost=int(config["ARGON2_MEMORY_COST_KIB"]),
        parallelism=int(config["ARGON2_PARALLELISM"]),
        type=Type.ID,
    )


class Hasher:
    """Hash and verify passwords; unknown users are verified against a dummy hash.

    At most ``concurrency`` hashes at once in a process: each holds the hasher's memory cost.
    """

    def __init__(self, hasher: PasswordHasher, *, concurrency: int = 1) -> None:
        self._hasher = hasher
        self._dummy_hash: str | None = None
        self._turns = threading.BoundedSemaphore(concurrency)

    def hash(self, password: str) -> str:
        with self._turns:
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Check ``password``; with no hash (unknown user) spend the same time, then fail."""
        known = password_hash is not None
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = self.hash("a dummy password for unknown users")
            password_hash = self._dummy_hash
        try:
            with self._turns:
                return self._hasher.verify(password_hash, password) and known
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


class Passwords:
    """Flask extension: each app's Hasher, with the app's argon2id parameters."""

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = Hasher(
            hasher_from_config(app.config), concurrency=int(app.config["ARGON2_CONCURRENCY"])
        )

    @property
    def hasher(self) -> Hasher:
        """The current app's hasher."""
        found: Hasher = current_app.extensions[EXTENSION_KEY]
        return found

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Check ``password``; with no hash (unknown user) spend the same time, then fail."""
        return self.hasher.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.needs_rehash(password_hash)


passwords = Passwords()
