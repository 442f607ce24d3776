"""A test token issuer: EC P-256 keys, contract tokens (and forged ones), a JWKS + feed server.

Consumers of auth's tokens (the todo service) are tested against this stand-in for auth, built
to the contract in the common brief: ES256, kid = RFC 7638 thumbprint, the contract's claims,
GET /.well-known/jwks.json and GET /auth/revocations.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from factory_core import PLACEHOLDER, key_id, public_jwk
from tests.support.devdb import free_port

ISSUER = "auth-service"
AUDIENCE = "flask-factory"
JWKS_PATH = "/.well-known/jwks.json"
FEED_PATH = "/auth/revocations"
EVENTS_PATH = "/auth/events"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SigningKey:
    """One EC P-256 key pair and its kid."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self.private_key.public_key()
        self.kid = key_id(self.public_key, algorithm="ES256")

    @property
    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.public_key, kid=self.kid, algorithm="ES256")

    @property
    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


class TokenIssuer:
    """Mints tokens with the contract's claims; keeps every published key (rotation)."""

    def __init__(self, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.key = SigningKey()
        self.published = [self.key]

    def rotate(self) -> SigningKey:
        """A new signing key; the old one stays in the JWKS."""
        self.key = SigningKey()
        self.published.append(self.key)
        return self.key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk for key in self.published]}

    def claims(self, sub: Any, *, token_type: str = "access", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        lifetime = 15 * 60 if token_type == "access" else 30 * 24 * 3600
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "type": token_type,
            "roles": ["user"],
            "fresh": False,
            "fid": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        key = key or self.key
        header = {"kid": key.kid, "typ": "JWT", **(headers or {})}
        return jwt.encode(claims, key.private_key, algorithm="ES256", headers=header)

    def access_token(self, sub: str, **overrides: Any) -> str:
        return self.sign(self.claims(sub, **overrides))

    def refresh_token(self, sub: str, **overrides: Any) -> str:
        return self.sign(self.claims(sub, token_type="refresh", **overrides))

    # Forged and invalid tokens (RFC 8725): each must be refused with 401.

    def alg_none(self, sub: str) -> str:
        header = {"alg": "none", "typ": "JWT", "kid": self.key.kid}
        return f"{_segment(header)}.{_segment(self.claims(sub))}."

    def hs256_with_public_key(self, sub: str) -> str:
        """The classic confusion: HMAC keyed with the issuer's public key (PEM)."""
        header = {"alg": "HS256", "typ": "JWT", "kid": self.key.kid}
        signing_input = f"{_segment(header)}.{_segment(self.claims(sub))}"
        mac = hmac.new(self.key.public_pem.encode(), signing_input.encode(), hashlib.sha256)
        return f"{signing_input}.{b64url(mac.digest())}"

    def tampered(self, sub: str, *, as_sub: str) -> str:
        """A valid token for ``sub`` whose payload is rewritten to ``as_sub``."""
        header, _payload, signature = self.access_token(sub).split(".")
        forged = self.claims(as_sub)
        return f"{header}.{_segment(forged)}.{signature}"

    def with_header(self, sub: str, **headers: Any) -> str:
        """E.g. jku=..., x5u=..., jwk=..., kid='../../etc/passwd'."""
        return self.sign(self.claims(sub), headers=headers)

    def unknown_kid(self, sub: str) -> str:
        return self.sign(self.claims(sub), key=SigningKey())

    def wrong_issuer(self, sub: str) -> str:
        return self.access_token(sub, iss="someone-else")

    def wrong_audience(self, sub: str) -> str:
        return self.access_token(sub, aud="another-api")

    def expired(self, sub: str) -> str:
        now = int(time.time())
        return self.access_token(sub, iat=now - 3600, nbf=now - 3600, exp=now - 600)

    def not_yet_valid(self, sub: str) -> str:
        now = int(time.time())
        return self.access_token(sub, nbf=now + 600, exp=now + 1800)


def _segment(data: dict[str, Any]) -> str:
    return b64url(json.dumps(data, separators=(",", ":")).encode())


class IssuerServer:
    """auth's public surface, served from a thread: the JWKS and the revocation feed."""

    def __init__(self, issuer: TokenIssuer, *, feed_token: str = PLACEHOLDER) -> None:
        self.issuer = issuer
        self.feed_token = feed_token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.jwks_url = self.url + JWKS_PATH
        self.feed_url = self.url + FEED_PATH
        self.events_url = self.url + EVENTS_PATH
        self.revocations: list[dict[str, str]] = []
        #: The account events, in order: their sequence is their place in this list, from 1.
        self.events: list[dict[str, Any]] = []
        #: When set, the event feed answers this instead (a broken or hostile feed).
        self.events_answer: Any = None
        self.jwks_hits = 0
        self.feed_hits = 0
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> IssuerServer:
        handler = type("Handler", (_Handler,), {"issuer_server": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Go down: connections are refused until start() again (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> IssuerServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _revoke(
        self, kind: str, value: str, lifetime: timedelta, at: datetime | None, **extra: Any
    ) -> None:
        revoked_at = at or datetime.now(UTC)
        item = {
            "kind": kind,
            "value": value,
            "revoked_at": rfc3339(revoked_at),
            "expires_at": rfc3339(revoked_at + lifetime),
            **extra,
        }
        with self.lock:
            self.revocations.append(item)

    def revoke_token(
        self, jti: str, lifetime: timedelta = timedelta(minutes=15), at: datetime | None = None
    ) -> None:
        """Revoke one token; ``at`` backdates the revocation (default: now)."""
        self._revoke("token", jti, lifetime, at)

    def revoke_family(
        self, fid: str, lifetime: timedelta = timedelta(days=30), at: datetime | None = None
    ) -> None:
        self._revoke("family", fid, lifetime, at)

    def revoke_subject(
        self,
        sub: str,
        not_before: datetime,
        lifetime: timedelta = timedelta(days=30),
        *,
        version: int | None = None,
    ) -> None:
        """Revoke the subject's tokens issued before ``not_before`` (or below ``version``)."""
        extra: dict[str, Any] = {"not_before": rfc3339(not_before)}
        if version is not None:
            extra["version"] = version
        self._revoke("subject", sub, lifetime, None, **extra)

    def publish(
        self, event_type: str, subject: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Append an account event, as auth's event feed would show it."""
        with self.lock:
            event = {
                "sequence": len(self.events) + 1,
                "id": uuid.uuid4().hex,
                "type": event_type,
                "subject": subject,
                "occurred_at": rfc3339(occurred_at or datetime.now(UTC)),
            }
            self.events.append(event)
        return event

    def events_page(self, after: int, limit: int) -> dict[str, Any]:
        with self.lock:
            page = self.events[after : after + limit]
            head = len(self.events)
        return {
            "events": page,
            "has_more": after + len(page) < head,
            "head": head,
            "oldest": 1 if head else None,
        }

    def feed_page(self, since: datetime | None, limit: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        with self.lock:
            items = [
                item
                for item in self.revocations
                if datetime.fromisoformat(item["expires_at"]) > now
                and (since is None or datetime.fromisoformat(item["revoked_at"]) >= since)
            ]
        items.sort(key=lambda item: item["revoked_at"])
        return {"now": rfc3339(now), "has_more": len(items) > limit, "items": items[:limit]}


class _Handler(BaseHTTPRequestHandler):
    issuer_server: IssuerServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        server = self.issuer_server
        url = urlparse(self.path)
        if url.path == JWKS_PATH:
            with server.lock:
                server.jwks_hits += 1
            self._send(200, server.issuer.jwks())
        elif url.path == EVENTS_PATH:
            if self.headers.get("Authorization") != f"Bearer {server.feed_token}":
                self._send(401, {"status": 401, "code": "invalid_feed_token"})
                return
            query = parse_qs(url.query)
            after = int(query.get("after", ["0"])[0])
            limit = int(query.get("limit", ["100"])[0])
            answer = server.events_answer
            self._send(200, server.events_page(after, limit) if answer is None else answer)
        elif url.path == FEED_PATH:
            with server.lock:
                server.feed_hits += 1
            if self.headers.get("Authorization") != f"Bearer {server.feed_token}":
                self._send(401, {"status": 401, "code": "invalid_token"})
                return
            query = parse_qs(url.query)
            since = datetime.fromisoformat(query["since"][0]) if "since" in query else None
            limit = int(query.get("limit", ["1000"])[0])
            self._send(200, server.feed_page(since, limit))
        else:
            self._send(HTTPStatus.NOT_FOUND, {"status": 404})
