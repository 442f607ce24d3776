"""The public keys that remember what they verified: the same answers as the keys they wrap."""

from __future__ import annotations

import copy
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from flask import Flask

from factory_core import lifecycle
from factory_core.tokens import _RememberingKeys, _VerifiedSignatures

PEM = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload[:-2]}AA.{signature}"


@pytest.mark.parametrize(
    ("algorithm", "private_key"),
    [
        ("ES256", ec.generate_private_key(ec.SECP256R1())),
        ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ],
)
def test_a_remembering_key_answers_as_the_key_it_wraps(algorithm: str, private_key: Any) -> None:
    public_key = private_key.public_key()
    remembering = _RememberingKeys()("k1", public_key)
    assert remembering is not public_key
    assert remembering == public_key
    assert remembering.key_size == public_key.key_size
    assert remembering.public_numbers() == public_key.public_numbers()
    assert remembering.public_bytes(*PEM) == public_key.public_bytes(*PEM)
    assert copy.copy(remembering) is remembering
    assert copy.deepcopy(remembering) is remembering

    token = jwt.encode({"sub": "u1"}, private_key, algorithm=algorithm)
    for _ in range(2):  # the second time from memory
        assert jwt.decode(token, remembering, algorithms=[algorithm]) == {"sub": "u1"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(_tampered(token), remembering, algorithms=[algorithm])
    other = jwt.encode({"sub": "u1"}, _other(algorithm), algorithm=algorithm)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(other, remembering, algorithms=[algorithm])


def _other(algorithm: str) -> Any:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_one_wrapper_per_kid_until_its_key_changes() -> None:
    keys = _RememberingKeys()
    first, second = (ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(2))
    wrapper = keys("k1", first)
    assert keys("k1", first) is wrapper
    assert keys("k1", second) is not wrapper
    assert keys("k1", "a PEM string") == "a PEM string"  # passed through, checked every time


def test_start_ignores_an_app_that_is_not_a_flask_one() -> None:
    lifecycle.start(object())  # a WSGI middleware: nothing to warm up, nothing raised


def test_a_failing_warm_up_step_does_not_stop_the_others() -> None:
    app = Flask(__name__)
    done: list[str] = []

    def broken() -> None:
        raise ConnectionError("the database is not up yet")

    lifecycle.on_start(app, broken)
    lifecycle.on_start(app, lambda: done.append("keys"))
    lifecycle.start(app)
    assert done == ["keys"]


def test_a_remembering_rsa_key_still_encrypts_and_recovers() -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    remembering = _RememberingKeys()("k1", private_key.public_key())
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert private_key.decrypt(remembering.encrypt(b"secret", oaep), oaep) == b"secret"
    signature = private_key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"data")
    recovered = remembering.recover_data_from_signature(
        signature, padding.PKCS1v15(), hashes.SHA256()
    )
    assert recovered == digest.finalize()


def test_the_memory_keeps_only_the_latest_signatures() -> None:
    verified = _VerifiedSignatures(size=2)
    first, second, third = (verified.fingerprint(bytes([n])) for n in range(3))
    verified.add(first)
    verified.add(second)
    assert first in verified  # now the most recent
    verified.add(third)
    assert (first in verified, second in verified, third in verified) == (True, False, True)
