"""Password hashing parameters and the password policy."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import pytest
from argon2 import PasswordHasher, Type
from argon2.profiles import RFC_9106_LOW_MEMORY

from auth_service.passwords import Hasher, hasher_from_config, is_common
from auth_service.settings import AuthSettings

PRODUCTION = {
    "ENV": "production",
    "ARGON2_FAST_IN_TESTING": True,
    "ARGON2_TIME_COST": AuthSettings.ARGON2_TIME_COST,
    "ARGON2_MEMORY_COST_KIB": AuthSettings.ARGON2_MEMORY_COST_KIB,
    "ARGON2_PARALLELISM": AuthSettings.ARGON2_PARALLELISM,
}


def test_production_defaults_meet_owasp_minimums() -> None:
    # OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB (19456 KiB), t >= 2, p >= 1.
    hasher = hasher_from_config(PRODUCTION)
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19456
    assert hasher.time_cost >= 2
    assert hasher.parallelism >= 1
    encoded = hasher.hash("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert (hasher.memory_cost, hasher.time_cost) == (
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.time_cost,
    )


def test_testing_uses_cheap_parameters_only_in_testing() -> None:
    fast = hasher_from_config({**PRODUCTION, "ENV": "testing"})
    assert (fast.time_cost, fast.memory_cost, fast.parallelism) == (1, 8, 1)
    slow = hasher_from_config({**PRODUCTION, "ENV": "testing", "ARGON2_FAST_IN_TESTING": False})
    assert slow.memory_cost == 65536


def test_verify_and_rehash() -> None:
    weak = Hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    strong = Hasher(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    encoded = weak.hash("correct horse battery staple")
    assert weak.verify(encoded, "correct horse battery staple")
    assert not weak.verify(encoded, "correct horse battery stapler")
    assert not weak.verify("not a hash", "anything")
    assert not weak.needs_rehash(encoded)
    assert strong.needs_rehash(encoded)
    assert strong.verify(encoded, "correct horse battery staple")  # old hashes still verify


def test_unknown_user_never_verifies() -> None:
    passwords = Hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    assert not passwords.verify(None, "a dummy password for unknown users")
    assert not passwords.verify(None, "anything at all")


def test_common_passwords_are_recognised_whatever_the_case_and_form() -> None:
    for password in (
        "password",
        "PASSWORD1",
        "iloveyou",
        "qwertyuiop",
        "\uff30\uff41\uff53\uff53\uff57\uff4f\uff52\uff44",
    ):
        assert is_common(password), password
    assert not is_common("correct horse battery staple")


class _CountingHasher(PasswordHasher):
    """A cheap hasher that records how many of its hashes ran at once."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._lock:
            self.running -= 1
        return super().verify(hash, password)


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_worker_hashes_at_most_argon2_concurrency_passwords_at_once(concurrency: int) -> None:
    # Each argon2id hash holds 64 MiB in production: a worker's threads must not multiply that.
    counting = _CountingHasher()
    hasher = Hasher(counting, concurrency=concurrency)
    encoded = hasher.hash("correct horse battery staple")
    with ThreadPoolExecutor(max_workers=6) as pool:
        checks = list(
            pool.map(lambda _: hasher.verify(encoded, "correct horse battery staple"), range(6))
        )
    assert checks == [True] * 6
    assert counting.most == concurrency
