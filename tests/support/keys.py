"""Signing keys for tests and benchmarks: generated, written as PEM as an operator would."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def new_private_key(algorithm: str = "ES256") -> PrivateKey:
    """A fresh key for ``algorithm``: EC P-256 (ES256) or RSA 2048 (RS256)."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: PrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(path: Path, key: PrivateKey | None = None) -> Path:
    """Write ``key`` (a new ES256 one by default) to ``path`` as PEM, mode 0600."""
    path.write_bytes(private_pem(key or new_private_key()))
    path.chmod(0o600)
    return path
