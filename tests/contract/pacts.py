"""Where the todo -> auth pact lives, and the names and secrets both sides agree on."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.devdb import ROOT

CONSUMER = "todo"
PROVIDER = "auth"

#: The revocation-feed secret the consumer sends in the pact; the provider runs with it.
FEED_TOKEN = "pact-feed-token-0123456789abcdef0123456789"

# Provider states: what must be true of auth before an interaction is replayed.
HAS_SIGNING_KEY = "auth publishes its signing keys"
USER_LOGGED_OUT = "a user logged out (a token and its family are revoked)"
ACCOUNT_DELETED = "an account was deleted (its subject is revoked, account.deleted published)"


def pact_dir() -> Path:
    """build/pacts, or $PACT_DIR (the provider test writes a fresh set there)."""
    return Path(os.environ.get("PACT_DIR") or ROOT / "build" / "pacts")


def pact_file(directory: Path | None = None) -> Path:
    return (directory or pact_dir()) / f"{CONSUMER}-{PROVIDER}.json"
