"""The mail catcher (Mailpit, tools/mail-catcher) as a real SMTP server for tests, read
through its HTTP API as a user reads its inbox."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests

from tests.support.devdb import ROOT, free_port

#: A link in a message's text.
_LINK = re.compile(r"https?://\S+")


class MailCatcher:
    def __init__(self, smtp_port: int, api: str) -> None:
        self.smtp_port = smtp_port
        self.api = api

    def settings(self) -> dict[str, Any]:
        """The MAIL_* settings of a service that sends here."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.smtp_port,
            "MAIL_SECURITY": "none",
            "MAIL_SENDER": "flask-factory <no-reply@example.org>",
            "MAIL_RETRY_SECONDS": 0.5,
            "MAIL_POLL_SECONDS": 0.2,
        }

    def inbox(self, address: str) -> list[dict[str, Any]]:
        """The messages to ``address``, newest first, each with its text."""
        found = requests.get(
            f"{self.api}/api/v1/search", params={"query": f'to:"{address}"'}, timeout=5
        )
        found.raise_for_status()
        return [
            requests.get(f"{self.api}/api/v1/message/{item['ID']}", timeout=5).json()
            for item in found.json()["messages"]
        ]

    def messages(self) -> list[dict[str, Any]]:
        """Every message received (summaries: ``To``, ``Subject``, ...), newest first."""
        listed = requests.get(f"{self.api}/api/v1/messages", params={"limit": 100_000}, timeout=10)
        listed.raise_for_status()
        messages: list[dict[str, Any]] = listed.json()["messages"]
        return messages

    def wait_for(
        self, address: str, *, count: int = 1, within: float = 15.0
    ) -> list[dict[str, Any]]:
        """At least ``count`` messages to ``address`` (newest first), once they arrived."""
        deadline = time.monotonic() + within
        while True:
            messages = self.inbox(address)
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(messages)} of {count} messages to {address} arrived")
            time.sleep(0.1)

    @staticmethod
    def link(message: Mapping[str, Any]) -> str:
        [link] = _LINK.findall(message["Text"])
        return link


@contextmanager
def mail_catcher(*options: str) -> Iterator[MailCatcher]:
    """A Mailpit of the caller's own on free ports, stopped afterwards. ``options`` are
    Mailpit's own (TLS, SMTP authentication); without them it accepts any client."""
    binary = subprocess.run(
        [str(ROOT / "tools" / "mail-catcher"), "path"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    smtp_port, http_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            binary,
            "--smtp",
            f"127.0.0.1:{smtp_port}",
            "--listen",
            f"127.0.0.1:{http_port}",
            "--quiet",
            "--disable-version-check",
            "--smtp-disable-rdns",
            *(options or ("--smtp-auth-accept-any", "--smtp-auth-allow-insecure")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{api}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, f"Mailpit exited with {process.returncode}"
            assert time.monotonic() < deadline, "Mailpit did not answer within 30 s"
            time.sleep(0.1)
        yield MailCatcher(smtp_port, api)
    finally:
        process.terminate()
        process.wait(timeout=10)
