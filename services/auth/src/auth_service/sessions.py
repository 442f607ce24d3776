"""Login sessions: their records, and refresh-token rotation (each token is rotated once; a retry
soon after gets the same pair)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from pymongo.errors import PyMongoError

from auth_service import security_log
from auth_service.origin import where_from
from auth_service.repositories import refresh_tokens, sessions
from auth_service.tokens import (
    PASSWORD,
    issue_tokens,
    leeway,
    refresh_token_expiry,
    revoke_family,
)
from factory_core import Document, Held, Problem, mongo


def start_session(user: Document, *, amr: list[str]) -> Document:
    """A login's token pair, in a new session recorded for its owner to see, and the sign-in
    in the account's security log (one transaction); ``amr``: how it signed in."""
    family_id = uuid.uuid4().hex
    pair = issue_tokens(user, family_id=family_id, fresh=True, amr=amr)
    user_id = str(user["_id"])

    def start() -> None:
        sessions.start(
            session_id=family_id,
            user_id=user_id,
            expires_at=refresh_token_expiry(),
            **where_from(),
        )
        security_log.record(user_id, security_log.SIGN_IN, session=family_id, methods=amr)

    mongo.transaction(start)
    return pair


def end_sessions(
    user_id: str, session_ids: list[str], *, reason: str, by_admin: bool = False
) -> None:
    """End sessions: revoke each one's tokens (through the feed), mark it ended, and log it
    (``reason``: logout, ended, refresh_token_reused); inside the caller's transaction."""
    for session_id in session_ids:
        revoke_family(session_id)
        security_log.record(
            user_id,
            security_log.SESSION_ENDED,
            session=session_id,
            reason=reason,
            by_admin=by_admin,
        )
    sessions.end(user_id=user_id, session_ids=session_ids)


def rotate_refresh_token(claims: Document, presented: str, user: Document) -> Document | None:
    """The successor pair of a refresh token; None when the token is reused (leaked).

    The first use issues a new pair (exactly one of concurrent uses does: it claims the token's
    use, a lease). The same token again within REFRESH_RETRY_GRACE_SECONDS of that use gets
    the same pair back (RFC 9700 section 4.14.2): a client whose answer was lost, or that was
    told to retry a 503, is not logged out; if the first use failed or died, the retry finishes
    its rotation. A use after that is reuse. The pair is kept encrypted with a key derived from
    the presented token, so the database alone cannot give it away.
    """
    uses = refresh_tokens
    grace = timedelta(seconds=float(current_app.config["REFRESH_RETRY_GRACE_SECONDS"]))
    jti = claims["jti"]
    held = uses.claim(
        jti=jti,
        family_id=claims["fid"],
        user_id=claims["sub"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC) + leeway(),
    )
    if held is None:

        def rotated(record: Document) -> bytes | Literal["reused"] | None:
            if datetime.now(UTC) - record["used_at"] > grace:
                return "reused"
            return uses.successor(jti=jti)  # None while the rotation is in progress

        outcome = uses.leases.wait(
            jti, result=rotated, seconds=_ROTATION_WAIT_SECONDS, busy=_in_progress
        )
        if not isinstance(outcome, Held):
            # The rotation's pair; or reuse, or a use expired and removed meanwhile (so is
            # the token): None.
            return _open(outcome, presented) if isinstance(outcome, bytes) else None
        held = outcome  # the first use failed: finish its rotation
    try:
        amr = claims.get("amr") or [PASSWORD]  # tokens from before amr: a password sign-in
        pair = issue_tokens(user, family_id=claims["fid"], fresh=False, amr=amr)
        uses.complete(
            jti=jti, successor=_seal(pair, presented), keep_until=held.document["used_at"] + grace
        )
    except Exception:
        with contextlib.suppress(PyMongoError):  # best effort: else the lease runs out
            held.release()
        raise
    # After the rotation, not in its lease: a failure here must not free a finished use.
    sessions.touch(
        session_id=claims["fid"],
        user_id=claims["sub"],
        expires_at=refresh_token_expiry(),
        **where_from(),
    )
    return pair


def _in_progress() -> Problem:
    return Problem(
        409,
        "This refresh token is being rotated right now. Retry later.",
        code="refresh_in_progress",
        retry_after=1,
    )


#: How long a concurrent use of the same token waits for the rotation in progress (within the
#: request's database budget, MONGO_TIMEOUT_MS).
_ROTATION_WAIT_SECONDS = 1.0


def _successor_key(presented: str) -> bytes:
    return hashlib.sha256(b"refresh-successor:" + presented.encode()).digest()


def _seal(pair: Document, presented: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_successor_key(presented)).encrypt(nonce, json.dumps(pair).encode(), None)


def _open(sealed: bytes, presented: str) -> Document | None:
    try:
        plain = AESGCM(_successor_key(presented)).decrypt(sealed[:12], sealed[12:], None)
    except InvalidTag:
        return None
    pair: Document = json.loads(plain)
    return pair
