"""factory_core.mail against real SMTP servers (Mailpit): STARTTLS and implicit TLS with a
certificate the client must trust, SMTP authentication from a secret file, and what happens
to mail that cannot be delivered."""

from __future__ import annotations

import ipaddress
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from pymongo import MongoClient
from tests.support import AppFactory
from tests.support.mailcatcher import mail_catcher
from tests.support.sample import create_sample

from factory_core.mail import OUTBOX, MailSettings, mail, mail_problems, message


def _render(payload: Mapping[str, Any]) -> Iterable[EmailMessage]:
    yield message(to=payload["to"], subject="Hello", text=f"Hello {payload['to']}")


@pytest.fixture
def make_mail_app(make_app: AppFactory) -> Callable[..., Flask]:
    def make(**settings: Any) -> Flask:
        config = {
            **{k: getattr(MailSettings, k) for k in dir(MailSettings) if k.startswith("MAIL_")},
            "MAIL_SENDER": "no-reply@example.org",
            "MAIL_POLL_SECONDS": 0.2,
            "MAIL_RETRY_SECONDS": 0.3,
            **settings,
        }
        app = make_app(create_sample, **config)
        mail.init_app(app, renderers={"hello": _render})
        return app

    return make


def _send(app: Flask, to: str) -> None:
    with app.test_request_context():
        mail.send_later("hello", to=to)


def _address() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.org"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _tls_catcher(certificate: tuple[Path, Path], *options: str) -> Any:
    cert, key = certificate
    return mail_catcher(
        "--smtp-tls-cert",
        str(cert),
        "--smtp-tls-key",
        str(key),
        "--smtp-auth-accept-any",
        *options,
    )


@pytest.mark.parametrize(
    ("security", "options"),
    [("starttls", ("--smtp-require-starttls",)), ("tls", ("--smtp-require-tls",))],
)
def test_mail_goes_over_tls_to_a_server_the_client_trusts(
    make_mail_app: Callable[..., Flask],
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    security: str,
    options: tuple[str, ...],
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the trusted CA: this one
    with _tls_catcher(certificate, *options) as server:
        app = make_mail_app(**{**server.settings(), "MAIL_SECURITY": security})
        address = _address()
        _send(app, address)
        [sent] = server.wait_for(address)
        assert sent["Subject"] == "Hello"


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(
    make_mail_app: Callable[..., Flask],
    certificate: tuple[Path, Path],
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
) -> None:
    with _tls_catcher(certificate, "--smtp-require-starttls") as server:
        app = make_mail_app(**{**server.settings(), "MAIL_SECURITY": "starttls"})
        address = _address()
        _send(app, address)
        outbox = mongo_client[db_name][OUTBOX]
        _until(lambda: (outbox.find_one() or {}).get("attempts", 0) >= 1)
        assert server.inbox(address) == []  # kept for a retry, never sent in clear


def test_smtp_credentials_come_from_a_secret_file(
    make_mail_app: Callable[..., Flask], tmp_path: Path
) -> None:
    (tmp_path / "users").write_text("mailer:s3cret-pass\n")
    (tmp_path / "password").write_text("s3cret-pass\n")
    with mail_catcher(
        "--smtp-auth-file", str(tmp_path / "users"), "--smtp-auth-allow-insecure"
    ) as server:
        app = make_mail_app(
            **server.settings(),
            MAIL_USERNAME="mailer",
            MAIL_PASSWORD_FILE=str(tmp_path / "password"),
        )
        address = _address()
        _send(app, address)
        assert server.wait_for(address)


def test_without_a_mail_server_nothing_is_sent_and_it_says_so(
    make_mail_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
) -> None:
    app = make_mail_app(MAIL_SERVER="")
    caplog.set_level(logging.WARNING, logger="factory_core.mail")
    _send(app, _address())
    _until(lambda: mongo_client[db_name][OUTBOX].count_documents({}) == 0)
    assert "no MAIL_SERVER" in caplog.text


def test_undeliverable_mail_is_dropped_after_the_give_up_time(
    make_mail_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
) -> None:
    app = make_mail_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_SECURITY="none")
    caplog.set_level(logging.WARNING, logger="factory_core.mail")
    _send(app, _address())
    outbox = mongo_client[db_name][OUTBOX]
    _until(lambda: (outbox.find_one() or {}).get("attempts", 0) >= 1)
    outbox.update_many({}, {"$set": {"created_at": datetime.now(UTC) - timedelta(days=2)}})
    _until(lambda: outbox.count_documents({}) == 0)
    assert "gave up on a hello message" in caplog.text


def test_production_needs_a_server_and_a_sender() -> None:
    assert mail_problems({"MAIL_SECURITY": "starttls"}) == [
        "MAIL_SERVER must name the SMTP server that delivers the service's mail",
        "MAIL_SENDER must be set: the From address of the service's mail",
    ]
    assert mail_problems(
        {"MAIL_SERVER": "smtp", "MAIL_SENDER": "a@b.c", "MAIL_SECURITY": "ssl"}
    ) == ["MAIL_SECURITY must be one of starttls, tls, none"]


def _until(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not within 15 s"
        time.sleep(0.1)
