"""factory_core.outbox against real SMTP servers (Mailpit): STARTTLS and implicit TLS with a
certificate the client must trust, SMTP authentication from a secret file, and what happens
to mail that cannot be delivered."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from tests.support.waiting import wait_until

from factory_core.outbox import OUTBOX, MailSettings, mail, mail_problems, message
from factory_core.runtime.lifecycle import start


def _render(payload: Mapping[str, Any], *, attempt: int) -> Iterable[EmailMessage]:
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
    start(app)  # the sender, as a worker's boot (or its first request) starts it
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
        wait_until(within=15, condition=lambda: (outbox.find_one() or {}).get("attempts", 0) >= 1)
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
    caplog.set_level(logging.WARNING, logger="factory_core.outbox")
    _send(app, _address())
    wait_until(within=15, condition=lambda: mongo_client[db_name][OUTBOX].count_documents({}) == 0)
    assert "no MAIL_SERVER" in caplog.text


def test_undeliverable_mail_is_dropped_after_the_give_up_time(
    make_mail_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
) -> None:
    app = make_mail_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_SECURITY="none")
    caplog.set_level(logging.WARNING, logger="factory_core.outbox")
    _send(app, _address())
    outbox = mongo_client[db_name][OUTBOX]
    wait_until(within=15, condition=lambda: (outbox.find_one() or {}).get("attempts", 0) >= 1)
    outbox.update_many({}, {"$set": {"created_at": datetime.now(UTC) - timedelta(days=2)}})
    wait_until(within=15, condition=lambda: outbox.count_documents({}) == 0)
    assert "gave up on a hello message" in caplog.text


def test_production_needs_a_server_and_a_sender() -> None:
    assert mail_problems({"MAIL_SECURITY": "starttls"}) == [
        "MAIL_SERVER must name the SMTP server that delivers the service's mail",
        "MAIL_SENDER must be set: the From address of the service's mail",
    ]
    assert mail_problems(
        {"MAIL_SERVER": "smtp", "MAIL_SENDER": "a@b.c", "MAIL_SECURITY": "ssl"}
    ) == ["MAIL_SECURITY must be one of starttls, tls, none"]


def test_production_sends_no_smtp_password_in_clear_off_the_host() -> None:
    settings = {"MAIL_SERVER": "smtp.example.com", "MAIL_SENDER": "a@b.c", "MAIL_SECURITY": "none"}
    assert mail_problems({**settings, "MAIL_USERNAME": "svc"}) == [
        "MAIL_SECURITY must be starttls or tls to log in to smtp.example.com "
        "(MAIL_USERNAME is set): none sends the password in clear"
    ]
    assert mail_problems(settings) == []  # a relay that takes mail without logging in
    assert mail_problems({**settings, "MAIL_USERNAME": "svc", "MAIL_SERVER": "127.0.0.1"}) == []


class SlowRelay:
    """An SMTP server that answers every line after ``delay`` seconds (a slow relay), and MAIL
    FROM with ``mail_reply``; it records when each client connected and hung up."""

    def __init__(self, delay: float, mail_reply: str = "250 OK") -> None:
        self.delay = delay
        self.mail_reply = mail_reply
        self.sessions: list[tuple[float, float]] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def settings(self) -> dict[str, Any]:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_SECURITY": "none"}

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        started = time.monotonic()
        with connection, connection.makefile("rb") as lines:
            try:
                self._say(connection, "220 slow relay")
                in_data = False
                for raw in lines:
                    line = raw.decode(errors="replace").strip().upper()
                    if in_data:
                        if line == ".":
                            in_data = False
                            self._say(connection, "250 queued")
                        continue
                    if line.startswith("EHLO"):
                        self._say(connection, "250-slow relay\r\n250 8BITMIME")
                    elif line.startswith("MAIL"):
                        self._say(connection, self.mail_reply)
                    elif line == "DATA":
                        in_data = True
                        self._say(connection, "354 go on")
                    elif line == "QUIT":
                        self._say(connection, "221 bye")
                        break
                    else:
                        self._say(connection, "250 OK")
            except OSError:
                pass
        self.sessions.append((started, time.monotonic()))

    def _say(self, connection: socket.socket, reply: str) -> None:
        time.sleep(self.delay)
        connection.sendall(reply.encode() + b"\r\n")

    def close(self) -> None:
        self._closed.set()
        self._server.close()


@pytest.fixture
def slow_relay() -> Iterator[Callable[..., SlowRelay]]:
    relays: list[SlowRelay] = []

    def make(delay: float, **options: Any) -> SlowRelay:
        relays.append(SlowRelay(delay, **options))
        return relays[-1]

    yield make
    for relay in relays:
        relay.close()


def test_one_smtp_conversation_ends_within_mail_timeout_seconds(
    make_mail_app: Callable[..., Flask], slow_relay: Callable[..., SlowRelay]
) -> None:
    """MAIL_TIMEOUT_SECONDS bounds the whole conversation, not each line of it: a relay that
    answers every line just in time must not hold a delivery (and its lease) for ever."""
    relay = slow_relay(0.4)  # each line in time for a 1 s timeout; ~8 lines in all
    app = make_mail_app(**relay.settings(), MAIL_TIMEOUT_SECONDS=1.0, MAIL_RETRY_SECONDS=60)
    _send(app, _address())
    wait_until(within=15, condition=lambda: bool(relay.sessions))
    started, ended = relay.sessions[0]
    assert ended - started < 2.0, f"one conversation lasted {ended - started:.1f} s"


def test_the_lease_outlasts_the_whole_delivery(
    make_mail_app: Callable[..., Flask],
    slow_relay: Callable[..., SlowRelay],
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
) -> None:
    """Third audit, 9: no other worker may take an entry while its delivery can still run."""
    relay = slow_relay(0.3)
    app = make_mail_app(**relay.settings(), MAIL_TIMEOUT_SECONDS=120.0)
    _send(app, _address())
    outbox = mongo_client[db_name][OUTBOX]
    wait_until(
        within=15, condition=lambda: (outbox.find_one() or {}).get("holder") is not None
    )  # being delivered
    entry = outbox.find_one()
    assert entry is not None
    assert entry["lease_until"] - datetime.now(UTC) > timedelta(seconds=115)


def test_a_sender_that_lost_its_lease_leaves_the_entry_to_its_new_holder(
    make_mail_app: Callable[..., Flask],
    slow_relay: Callable[..., SlowRelay],
    mongo_client: MongoClient[dict[str, Any]],
    db_name: str,
) -> None:
    """Third audit, 9: only the holder of a lease releases or reschedules the entry."""
    relay = slow_relay(0.3, mail_reply="451 try again later")
    app = make_mail_app(**relay.settings())
    _send(app, _address())
    outbox = mongo_client[db_name][OUTBOX]
    wait_until(within=15, condition=lambda: (outbox.find_one() or {}).get("holder") is not None)
    # Another worker has taken the entry over meanwhile (the first one's lease ran out).
    theirs = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    outbox.update_one({}, {"$set": {"holder": "another worker", "lease_until": theirs}})
    wait_until(
        within=15, condition=lambda: bool(relay.sessions)
    )  # the first sender's delivery failed
    time.sleep(0.5)
    entry = outbox.find_one()
    assert entry is not None
    assert (entry["holder"], entry["lease_until"], entry["attempts"]) == (
        "another worker",
        theirs,
        0,
    )
