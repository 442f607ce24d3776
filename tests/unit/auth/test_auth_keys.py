"""Keys: RFC 7638 thumbprints as kids, the JWK Set, dev key generation."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from auth_service.keys import KeyRing, generate_dev_key
from factory_core import key_id


def test_kid_is_the_rfc7638_thumbprint() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ring = KeyRing(key, [], algorithm="ES256")
    (jwk,) = ring.jwks()["keys"]
    # RFC 7638 section 3: required members only, lexicographic order, no whitespace.
    canonical = f'{{"crv":"P-256","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    assert jwk["kid"] == expected.rstrip(b"=").decode()
    assert len(jwk["kid"]) == 43
    assert ring.signing_kid == jwk["kid"]


def test_key_ring_verifies_with_every_key_and_publishes_no_private_member() -> None:
    current, retired = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ring = KeyRing(current, [retired.public_key(), current.public_key()], algorithm="ES256")
    kids = [jwk["kid"] for jwk in ring.jwks()["keys"]]
    assert kids == [
        key_id(current.public_key(), algorithm="ES256"),
        key_id(retired.public_key(), algorithm="ES256"),
    ]
    assert ring.verification_key(kids[1]).public_numbers() == retired.public_key().public_numbers()
    for jwk in ring.jwks()["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}


def test_dev_key_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "key.pem"
    pem = generate_dev_key(path, "ES256")
    assert path.read_bytes() == pem
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert generate_dev_key(path, "ES256") == pem
    assert [p.name for p in path.parent.iterdir()] == ["key.pem"]  # no temporary files left


def test_workers_starting_at_once_share_one_dev_key(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def start_worker() -> None:
        barrier.wait()
        results.append(generate_dev_key(path, "ES256"))

    threads = [threading.Thread(target=start_worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert set(results) == {path.read_bytes()}
