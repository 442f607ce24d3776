"""auth and todo as real gunicorn processes on loopback, and accounts made through auth's API.

Shared by the contract, end-to-end and browser tests: nothing here mints a token; every token
comes from POST /auth/login on a running auth service.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support.gunicorn import GunicornServer

#: The shared revocation-feed secret both services are configured with in these tests.
FEED_TOKEN = "contract-" + "f" * 40


def service_env(prefix: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """<PREFIX>_<NAME> variables; non-strings JSON-encoded (the settings loader parses JSON)."""
    return {
        f"{prefix}_{name}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.items()
    }


def write_signing_key(directory: Path) -> Path:
    """A fresh EC P-256 private key in PEM, mode 0600, as an operator would provision it."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = directory / "jwt-signing-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def production_settings(directory: Path) -> dict[str, Any]:
    """What production requires of both services (real secrets; nothing else relaxed)."""
    return {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "REVOCATION_FEED_TOKEN": FEED_TOKEN,
        "LOG_LEVEL": "WARNING",
        "INSTANCE_PATH": str(directory),
    }


def testing_settings(directory: Path) -> dict[str, Any]:
    """Settings of a service run with ENV=testing (dev keys, placeholders accepted)."""
    return {
        "ENV": "testing",
        "INSTANCE_PATH": str(directory),
        "REVOCATION_FEED_TOKEN": FEED_TOKEN,
        "LOG_LEVEL": "WARNING",
    }


def start_auth(
    *,
    mongo_uri: str,
    db_name: str,
    directory: Path,
    production: bool = True,
    workers: int = 2,
    **settings: Any,
) -> GunicornServer:
    """auth_service under gunicorn; production settings unless ``production`` is False."""
    directory.mkdir(parents=True, exist_ok=True)
    base: dict[str, Any] = (
        {
            **production_settings(directory),
            "JWT_PRIVATE_KEY_FILE": str(write_signing_key(directory)),
        }
        if production
        else testing_settings(directory)
    )
    env = service_env(
        "AUTH", {**base, "MONGO_URI": mongo_uri, "MONGO_DB_NAME": db_name, **settings}
    )
    server = GunicornServer(
        "auth_service.wsgi:app", env, workers=workers, log_path=directory / "auth.log"
    )
    return server.start()


def start_todo(
    *,
    mongo_uri: str,
    db_name: str,
    directory: Path,
    auth_url: str,
    production: bool = True,
    workers: int = 2,
    **settings: Any,
) -> GunicornServer:
    """todo_service under gunicorn, trusting the auth service at ``auth_url``."""
    directory.mkdir(parents=True, exist_ok=True)
    base: dict[str, Any] = (
        production_settings(directory) if production else testing_settings(directory)
    )
    env = service_env(
        "TODO",
        {
            **base,
            "MONGO_URI": mongo_uri,
            "MONGO_DB_NAME": db_name,
            "JWKS_URL": f"{auth_url}/.well-known/jwks.json",
            "REVOCATION_FEED_URL": f"{auth_url}/auth/revocations",
            "REVOCATION_POLL_SECONDS": 1,
            **settings,
        },
    )
    server = GunicornServer(
        "todo_service.wsgi:app", env, workers=workers, log_path=directory / "todo.log"
    )
    return server.start()


def new_username(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def new_password() -> str:
    # Long, random and not on any common-password list.
    return f"Pw-{secrets.token_urlsafe(18)}"


@dataclass
class Account:
    """A user of the system, registered and logged in through auth's public API."""

    auth_url: str
    username: str = field(default_factory=new_username)
    password: str = field(default_factory=new_password)
    user_id: str = ""
    access_token: str = ""
    refresh_token: str = ""

    def register(self) -> Account:
        response = requests.post(
            f"{self.auth_url}/auth/register",
            json={"username": self.username, "password": self.password},
            timeout=10,
        )
        assert response.status_code == 201, (response.status_code, response.text)
        self.user_id = response.json()["id"]
        return self

    def login(self) -> Account:
        response = requests.post(
            f"{self.auth_url}/auth/login",
            json={"username": self.username, "password": self.password},
            timeout=10,
        )
        assert response.status_code == 200, (response.status_code, response.text)
        assert response.headers["Cache-Control"].startswith("no-store"), response.headers
        tokens = response.json()
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        return self

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.access_token}"}


def registered(auth_url: str, **kwargs: Any) -> Account:
    """A new account, registered and logged in."""
    return Account(auth_url, **kwargs).register().login()


def eventually(
    probe: Callable[[], requests.Response],
    accept: Callable[[requests.Response], bool],
    *,
    within: float,
    interval: float = 0.2,
) -> requests.Response:
    """Call ``probe`` until ``accept`` holds or ``within`` seconds pass; return the last answer."""
    deadline = time.monotonic() + within
    response = probe()
    while not accept(response) and time.monotonic() < deadline:
        time.sleep(interval)
        response = probe()
    return response
