"""Signing and verification keys: loaded from settings, generated for development, published."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from factory_core import ConfigurationError, StaticKeys, key_id, public_jwk

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


class KeyRing(StaticKeys):
    """The signing key plus every verifying key, looked up by kid."""

    def __init__(
        self, signing_key: PrivateKey, verify_keys: Iterable[PublicKey], *, algorithm: str
    ) -> None:
        self.algorithm = algorithm
        self.signing_key = signing_key
        self.signing_kid = key_id(signing_key.public_key(), algorithm=algorithm)
        keys: dict[str, PublicKey] = {self.signing_kid: signing_key.public_key()}
        for key in verify_keys:
            keys.setdefault(key_id(key, algorithm=algorithm), key)
        super().__init__(keys)
        self.public_keys = keys

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWK Set: the signing key first, then the keys that only verify."""
        return {
            "keys": [
                public_jwk(key, kid=kid, algorithm=self.algorithm)
                for kid, key in self.public_keys.items()
            ]
        }


def _check_key(key: PublicKey, algorithm: str, setting: str) -> None:
    if algorithm == "ES256":
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ConfigurationError(f"{setting}: ES256 needs an EC P-256 key")
    elif algorithm == "RS256":
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
            raise ConfigurationError(f"{setting}: RS256 needs an RSA key of at least 2048 bits")
    else:
        raise ConfigurationError(f"JWT_ALGORITHM {algorithm!r} is not ES256 or RS256")


def _load_private(pem: bytes, setting: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise ConfigurationError(f"{setting} is not an unencrypted PEM private key") from error
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigurationError(f"{setting} must be an EC or RSA private key")
    return key


def _load_public_blocks(text: str, setting: str) -> list[PublicKey]:
    keys: list[PublicKey] = []
    for match in _PEM_BLOCK.finditer(text):
        block = match.group(0).encode()
        key: Any
        try:
            if "PRIVATE" in match.group(1):
                key = _load_private(block, setting).public_key()
            else:
                key = serialization.load_pem_public_key(block)
        except ValueError as error:
            raise ConfigurationError(f"{setting} holds an unreadable PEM key") from error
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise ConfigurationError(f"{setting} must hold EC or RSA keys")
        keys.append(key)
    if text.strip() and not keys:
        raise ConfigurationError(f"{setting} holds no PEM key")
    return keys


def _paths(value: str | Iterable[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def generate_dev_key(path: Path, algorithm: str) -> bytes:
    """Create ``path`` with a new private key (0600) unless it exists; return its PEM.

    Workers may start at once: the key is written to a temporary file and hard-linked into
    place, so exactly one key wins and every worker reads that one.
    """
    if path.exists():
        return path.read_bytes()
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jwt-key-")
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, pem)
        os.close(descriptor)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        os.unlink(temporary)
    return pem


def load_key_ring(config: Mapping[str, Any], instance_path: str) -> KeyRing:
    """Build the key ring from the settings (see AuthSettings), generating a dev key if allowed."""
    algorithm = config["JWT_ALGORITHM"]
    if config["JWT_PRIVATE_KEY"]:
        setting, pem = "JWT_PRIVATE_KEY", str(config["JWT_PRIVATE_KEY"]).encode()
    elif config["JWT_PRIVATE_KEY_FILE"]:
        setting = "JWT_PRIVATE_KEY_FILE"
        try:
            pem = Path(config["JWT_PRIVATE_KEY_FILE"]).read_bytes()
        except OSError as error:
            raise ConfigurationError(f"JWT_PRIVATE_KEY_FILE cannot be read: {error}") from error
    elif config["ENV"] in ("development", "testing"):
        setting = "JWT_DEV_KEY_FILE"
        pem = generate_dev_key(Path(instance_path) / config["JWT_DEV_KEY_FILE"], algorithm)
    else:
        raise ConfigurationError("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be configured")
    signing_key = _load_private(pem, setting)
    _check_key(signing_key.public_key(), algorithm, setting)

    verify_keys = _load_public_blocks(str(config["JWT_VERIFY_KEYS"] or ""), "JWT_VERIFY_KEYS")
    for path in _paths(config["JWT_VERIFY_KEY_FILES"] or []):
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise ConfigurationError(f"JWT_VERIFY_KEY_FILES: cannot read {path}") from error
        verify_keys.extend(_load_public_blocks(text, f"JWT_VERIFY_KEY_FILES ({path})"))
    for key in verify_keys:
        _check_key(key, algorithm, "JWT_VERIFY_KEYS")
    return KeyRing(signing_key, verify_keys, algorithm=algorithm)
