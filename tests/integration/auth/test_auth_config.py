"""Production refuses unsafe configuration, naming each setting; key settings are checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.integration.auth.helpers import bearer, login, register
from tests.support.keys import private_pem

from auth_service import create_app
from factory_core import ConfigurationError

SAFE = {
    "ENV": "production",
    "SECRET_KEY": "s" * 40,
    "FEED_TOKEN": "f" * 40,
    "MAIL_SERVER": "smtp.example.org",
    "MAIL_SENDER": "no-reply@example.org",
}


def pem(key: Any) -> str:
    return private_pem(key).decode()


def production(mongo_uri: str, db_name: str, tmp_path: Path, **config: Any) -> Any:
    return create_app(
        {
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": db_name,
            "INSTANCE_PATH": str(tmp_path),
            **SAFE,
            **config,
        }
    )


def test_production_refuses_to_start_without_a_key(
    mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError) as error:
        production(mongo_uri, db_name, tmp_path)
    assert "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be configured" in str(error.value)
    assert "AUTH_" in str(error.value)
    assert not (tmp_path / "jwt-signing-key.pem").exists()


@pytest.mark.parametrize("token", ["change-me", "too-short"])
def test_production_refuses_a_placeholder_feed_token(
    mongo_uri: str, db_name: str, tmp_path: Path, token: str
) -> None:
    key = pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigurationError) as error:
        production(mongo_uri, db_name, tmp_path, JWT_PRIVATE_KEY=key, FEED_TOKEN=token)
    assert "FEED_TOKEN" in str(error.value)


def test_production_starts_with_a_key_file(mongo_uri: str, db_name: str, tmp_path: Path) -> None:
    key_file = tmp_path / "signing.pem"
    key_file.write_text(pem(ec.generate_private_key(ec.SECP256R1())))
    app = production(mongo_uri, db_name, tmp_path, JWT_PRIVATE_KEY_FILE=str(key_file))
    assert len(app.extensions["auth.keys"].signing_kid) == 43


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"JWT_PRIVATE_KEY": "not a key"}, "JWT_PRIVATE_KEY is not an unencrypted PEM"),
        ({"JWT_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "JWT_PRIVATE_KEY_FILE cannot be read"),
        ({"JWT_VERIFY_KEYS": "garbage"}, "JWT_VERIFY_KEYS holds no PEM key"),
        ({"JWT_VERIFY_KEY_FILES": "/nonexistent.pem"}, "JWT_VERIFY_KEY_FILES: cannot read"),
    ],
)
def test_unreadable_key_settings_are_named(
    mongo_uri: str, db_name: str, tmp_path: Path, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app(
            {
                "ENV": "testing",
                "MONGO_URI": mongo_uri,
                "MONGO_DB_NAME": db_name,
                "INSTANCE_PATH": str(tmp_path),
                **config,
            }
        )


def test_a_key_of_the_wrong_type_is_refused(mongo_uri: str, db_name: str, tmp_path: Path) -> None:
    rsa_key = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(ConfigurationError, match="ES256 needs an EC P-256 key"):
        create_app(
            {
                "ENV": "testing",
                "MONGO_URI": mongo_uri,
                "MONGO_DB_NAME": db_name,
                "INSTANCE_PATH": str(tmp_path),
                "JWT_PRIVATE_KEY": rsa_key,
            }
        )


def test_rs256_can_be_configured(make_auth_app: Any) -> None:
    key = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    app = make_auth_app(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=key)
    client = app.test_client()
    (jwk,) = client.get("/.well-known/jwks.json").json["keys"]
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)

    register(client)
    session = login(client)
    assert client.get("/auth/me", headers=bearer(session["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("grace", "timeout_ms"), [(10, 10_000), (3, 2000)], ids=["long budget", "short grace"]
)
def test_production_refuses_a_grace_a_dead_rotation_cannot_be_finished_in(
    mongo_uri: str, db_name: str, tmp_path: Path, grace: int, timeout_ms: int
) -> None:
    # A retry finishes a rotation whose request died once its lease ran out (the request's
    # budget, a second, the clocks' 2 s): within the grace, or the retry is taken for reuse
    # and the session ends (found by review: MONGO_TIMEOUT_MS=10000 brought that back).
    key = pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigurationError, match="REFRESH_RETRY_GRACE_SECONDS must be"):
        production(
            mongo_uri,
            db_name,
            tmp_path,
            JWT_PRIVATE_KEY=key,
            REFRESH_RETRY_GRACE_SECONDS=grace,
            MONGO_TIMEOUT_MS=timeout_ms,
        )
    # No grace at all is a choice (every second use is reuse): accepted.
    production(mongo_uri, db_name, tmp_path, JWT_PRIVATE_KEY=key, REFRESH_RETRY_GRACE_SECONDS=0)
