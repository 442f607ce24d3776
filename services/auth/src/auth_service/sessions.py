"""Refresh-token rotation: each token is rotated once; a retry soon after gets the same pair."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from pymongo.errors import PyMongoError

from auth_service.repositories import refresh_tokens
from auth_service.tokens import issue_tokens, leeway
from factory_core import Problem

Document = dict[str, Any]


def rotate_refresh_token(claims: Document, presented: str, user: Document) -> Document | None:
    """The successor pair of a refresh token; None when the token is reused (leaked).

    The first use issues a new pair (exactly one of concurrent uses does). The same token
    again within REFRESH_RETRY_GRACE_SECONDS of that use gets the same pair back (RFC 9700
    section 4.14.2): a client whose answer was lost, or that was told to retry a 503, is not
    logged out. A use after that is reuse. The pair is kept encrypted with a key derived from
    the presented token, so the database alone cannot give it away.
    """
    uses = refresh_tokens
    grace = timedelta(seconds=float(current_app.config["REFRESH_RETRY_GRACE_SECONDS"]))
    jti = claims["jti"]
    record, owned = uses.claim(
        jti=jti,
        family_id=claims["fid"],
        user_id=claims["sub"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC) + leeway(),
        lease=_ROTATION_LEASE,
    )
    deadline = time.monotonic() + _ROTATION_WAIT_SECONDS
    while not owned:
        if datetime.now(UTC) - record["used_at"] > grace:
            return None
        sealed = uses.successor(jti=jti)
        if sealed is not None:  # the rotation is done
            return _open(sealed, presented)
        if uses.take_over(jti=jti, lease=_ROTATION_LEASE):
            break  # the first attempt failed: finish its rotation
        if time.monotonic() >= deadline:
            raise Problem(
                409,
                "This refresh token is being rotated right now. Retry later.",
                code="refresh_in_progress",
                retry_after=1,
            )
        time.sleep(0.05)
        record = uses.get(jti=jti) or record
    try:
        pair = issue_tokens(user, family_id=claims["fid"], fresh=False)
        uses.complete(
            jti=jti, successor=_seal(pair, presented), keep_until=record["used_at"] + grace
        )
    except Exception:
        with contextlib.suppress(PyMongoError):  # best effort: else the lease runs out
            uses.end_lease(jti=jti)
        raise
    return pair


#: How long a rotation may take before a retry may finish it instead.
_ROTATION_LEASE = timedelta(seconds=10)
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
