"""Mail sent outside the request path: a durable outbox in MongoDB and a sender per process;
a failed delivery is retried with a doubling delay, then dropped (at least once)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app
from pymongo import ASCENDING, IndexModel
from pymongo.errors import PyMongoError

from factory_core.data.leases import Held, Leases
from factory_core.data.mongo import mongo
from factory_core.runtime.background import PerProcessLoop
from factory_core.runtime.config import LOOPBACK_HOSTS, Settings
from factory_core.runtime.lifecycle import keep_running

logger = logging.getLogger(__name__)

EXTENSION_KEY = "factory_core.outbox"
OUTBOX = "mail_outbox"
#: The outbox's index, for a migration of each service that sends mail (``create_indexes``).
OUTBOX_INDEXES = {OUTBOX: [IndexModel([("due_at", ASCENDING)], name="due_at")]}
SECURITY_MODES = ("starttls", "tls", "none")

#: What a renderer gets (the entry's payload; ``attempt``: 0 at the first delivery attempt)
#: and gives (the messages to send, maybe none).
Renderer = Callable[..., Iterable[EmailMessage]]
#: A lease covers one conversation (MAIL_TIMEOUT_SECONDS) plus this, for rendering (a few
#: database operations, each bounded by MONGO_TIMEOUT_MS) and the writes around it.
_LEASE_MARGIN = timedelta(seconds=60)


class MailSettings(Settings):
    """SMTP delivery (factory_core.outbox). A service that sends mail requires these in
    production (see :func:`mail_problems`)."""

    #: The SMTP server's host; empty: no mail server (nothing is delivered).
    MAIL_SERVER = ""
    #: The SMTP server's port (587 for starttls, 465 for tls).
    MAIL_PORT = 587
    #: starttls (upgrade a plain connection, port 587), tls (implicit TLS, port 465) or none
    #: (a mail catcher on the same host; never across a network).
    MAIL_SECURITY = "starttls"
    #: The SMTP user name; empty: no login.
    MAIL_USERNAME = ""
    #: The SMTP password, or MAIL_PASSWORD_FILE: a file holding it (a mounted secret).
    MAIL_PASSWORD = ""
    #: A file holding the SMTP password (a mounted secret), read when MAIL_PASSWORD is empty.
    MAIL_PASSWORD_FILE = ""
    #: The From address, e.g. "Example <no-reply@example.com>".
    MAIL_SENDER = ""
    #: The longest one SMTP conversation (every message of one entry) may last; then it is
    #: cut and retried later.
    MAIL_TIMEOUT_SECONDS = 10.0
    #: The first retry's delay after a failed delivery; it doubles up to 10 minutes.
    MAIL_RETRY_SECONDS = 5.0
    #: An entry still undelivered after this long is dropped (and logged as an error).
    MAIL_GIVE_UP_SECONDS = 24 * 3600
    #: How often each worker's sender looks for entries other workers recorded.
    MAIL_POLL_SECONDS = 2.0


def mail_problems(config: Mapping[str, Any]) -> list[str]:
    """What a production service that sends mail is missing (its Settings.problems calls it)."""
    found = []
    if not config.get("MAIL_SERVER"):
        found.append("MAIL_SERVER must name the SMTP server that delivers the service's mail")
    if not config.get("MAIL_SENDER"):
        found.append("MAIL_SENDER must be set: the From address of the service's mail")
    if config.get("MAIL_SECURITY") not in SECURITY_MODES:
        found.append(f"MAIL_SECURITY must be one of {', '.join(SECURITY_MODES)}")
    server = str(config.get("MAIL_SERVER") or "")
    logs_in = config.get("MAIL_USERNAME")
    if config.get("MAIL_SECURITY") == "none" and logs_in and server not in LOOPBACK_HOSTS:
        found.append(
            f"MAIL_SECURITY must be starttls or tls to log in to {server} (MAIL_USERNAME is "
            "set): none sends the password in clear"
        )
    return found


def _deliver(config: Mapping[str, Any], messages: list[EmailMessage]) -> None:
    """Send ``messages`` in one SMTP session, within MAIL_TIMEOUT_SECONDS in all (a watchdog
    hangs up past it); any failure raises (the entry is retried)."""
    server = str(config["MAIL_SERVER"])
    port = int(config["MAIL_PORT"])
    security = str(config["MAIL_SECURITY"])
    timeout = float(config["MAIL_TIMEOUT_SECONDS"])
    username = str(config.get("MAIL_USERNAME") or "")
    password = str(config.get("MAIL_PASSWORD") or "")
    if not password and config.get("MAIL_PASSWORD_FILE"):
        password = Path(config["MAIL_PASSWORD_FILE"]).read_text().strip()
    started = time.monotonic()
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    remaining = max(0.0, timeout - (time.monotonic() - started))
    watchdog = threading.Timer(remaining, _hang_up, args=(smtp,))
    watchdog.start()
    try:
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if username:
                smtp.login(username, password)
            for message in messages:
                smtp.send_message(message)
    finally:
        watchdog.cancel()


def _hang_up(smtp: smtplib.SMTP) -> None:
    """End a conversation past its time: its blocked read returns (SMTPServerDisconnected)."""
    connection = smtp.sock
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)


def message(*, to: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message from the app's MAIL_SENDER (for renderers)."""
    sender = str(current_app.config["MAIL_SENDER"])
    built = EmailMessage()
    built["From"] = sender
    built["To"] = to
    built["Subject"] = subject
    domain = sender.rpartition("@")[2].rstrip(">") or None
    built["Message-ID"] = make_msgid(domain=domain)
    built.set_content(text)
    return built


class Outbox(PerProcessLoop):
    """The outbox of one app and its sender thread (one per process)."""

    thread_name = "mail-sender"

    def __init__(self, app: Flask, renderers: Mapping[str, Renderer]) -> None:
        self.app = app
        self.renderers = dict(renderers)
        delivery = timedelta(seconds=float(app.config["MAIL_TIMEOUT_SECONDS"]))
        self.leases = Leases(OUTBOX, delivery + _LEASE_MARGIN)
        super().__init__()

    def send_later(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Record one entry (the request's only work) and wake this process's sender."""
        if kind not in self.renderers:
            raise KeyError(f"no renderer for mail of kind {kind!r}")
        now = datetime.now(UTC)
        entry = {"kind": kind, "payload": dict(payload), "attempts": 0}
        mongo.collection(OUTBOX).insert_one({**entry, "created_at": now, "due_at": now})
        mongo.after_commit(self.wake)  # in a transaction, the entry is visible only then

    def round(self) -> float:
        try:
            found = self.step()
        except PyMongoError as error:
            logger.warning("mail: outbox unavailable: %s", error)
            found = False
        return 0 if found else float(self.app.config["MAIL_POLL_SECONDS"])

    def step(self) -> bool:
        """Deliver one due entry, if any; whether one was found (then look again at once)."""
        with self.app.app_context():
            config = self.app.config
            now = datetime.now(UTC)
            held = self.leases.take({"due_at": {"$lte": now}}, sort=[("due_at", ASCENDING)])
            if held is None:
                return False
            entry = held.document
            if not config["MAIL_SERVER"]:
                logger.warning("mail: no MAIL_SERVER; a %s message was not sent", entry["kind"])
                held.delete()
                return True
            try:
                render = self.renderers[entry["kind"]]
                messages = list(render(entry["payload"], attempt=entry["attempts"]))
                if messages:
                    _deliver(config, messages)
            except (OSError, smtplib.SMTPException) as error:
                self._retry_or_drop(held, now, error)
            except Exception:  # a renderer's bug: keep it, retried later like a failure
                logger.exception("mail: rendering a %s message failed", entry["kind"])
                self._retry_or_drop(held, now, None)
            else:
                held.delete()
            return True

    def _retry_or_drop(self, held: Held, now: datetime, error: Exception | None) -> None:
        """Reschedule the entry, or drop it after MAIL_GIVE_UP_SECONDS; only while this sender
        still holds its lease (another may have taken it over)."""
        config = self.app.config
        entry = held.document
        created = entry["created_at"].replace(tzinfo=UTC)
        if now - created > timedelta(seconds=float(config["MAIL_GIVE_UP_SECONDS"])):
            if held.delete():
                logger.error(
                    "mail: gave up on a %s message after %s attempts",
                    entry["kind"],
                    entry["attempts"] + 1,
                )
            return
        delay = min(600.0, float(config["MAIL_RETRY_SECONDS"]) * 2 ** entry["attempts"])
        if held.release(
            {"$set": {"due_at": now + timedelta(seconds=delay)}, "$inc": {"attempts": 1}}
        ):
            logger.warning("mail: delivery failed (%s); retrying in %.0f s", error, delay)
        else:
            logger.warning("mail: delivery failed (%s); another sender holds it now", error)


class Mail:
    """Flask extension: ``mail.init_app(app, renderers={kind: render})``, then
    ``mail.send_later(kind, **payload)`` in a request."""

    def init_app(self, app: Flask, *, renderers: Mapping[str, Renderer]) -> None:
        outbox = Outbox(app, renderers)
        app.extensions[EXTENSION_KEY] = outbox
        keep_running(app, outbox)

    @staticmethod
    def outbox(app: Flask | None = None) -> Outbox:
        return cast(Outbox, (app or current_app).extensions[EXTENSION_KEY])

    def send_later(self, kind: str, **payload: Any) -> None:
        self.outbox().send_later(kind, payload)


mail = Mail()
