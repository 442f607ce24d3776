"""todo's expectations of auth, as a pact: the JWKS document, the revocation and event feeds.

Each interaction is exercised by todo's own client code (factory_core.RemoteJWKS, which todo
uses for JWKS_URL, trust.revocations.RevocationFeed and trust.events' consumer)
against pact's mock server;
the pact file this writes is what tests/contract/auth_provider verifies against a real auth.
Token claims travel inside a signed JWT, which pact cannot look into: the provider side
checks them on tokens a real auth issues (test_token_claims.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pact import Pact, match
from tests.contract.pacts import (
    ACCOUNT_DELETED,
    CONSUMER,
    FEED_TOKEN,
    HAS_SIGNING_KEY,
    PROVIDER,
    USER_LOGGED_OUT,
    pact_dir,
)
from tests.support import AppFactory
from tests.support.tokens import SigningKey

from factory_core import Problem, event_consumer
from factory_core.trust.revocations import FeedError, RevocationFeed
from factory_core.trust.tokens import RemoteJWKS, UnknownKeyError
from todo_service import create_app as create_todo

B64URL_43 = r"^[A-Za-z0-9_-]{43}$"
# RFC 3339 with a timezone, as todo's parser requires (fractional seconds optional).
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
JWKS_PATH = "/.well-known/jwks.json"
EVENTS_PATH = "/auth/events"
FEED_PATH = "/auth/revocations"
# Example times from long ago: auth replays `since` literally, and must return what the
# states created just before (revoked_at >= since).
EXAMPLE_NOW = "2001-01-01T00:01:00Z"
EXAMPLE_SINCE = "2001-01-01T00:00:00Z"  # EXAMPLE_NOW minus todo's 60 s overlap
# A first read asks from where revocations can still matter: with this test's window, which
# reaches back to 2000-01-01, from 60 s before that.
FIRST_SINCE = "1999-12-31T23:59:00Z"
FIRST_SINCE_PATTERN = r"^1999-12-31T23:59:\d{2}(\.\d+)?Z$"
LATER_SINCE_PATTERN = r"^2001-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
#: The window a feed gets here (see FIRST_SINCE).
WINDOW_START = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE = "2999-01-01T00:00:00Z"


def rfc3339(example: str) -> object:
    return match.regex(example, regex=RFC3339)


def revocation(kind: str, value: str, **extra: object) -> dict[str, object]:
    kinds = "^(token|family)$" if kind != "subject" else "^subject$"
    return {
        "kind": match.regex(kind, regex=kinds),
        "value": match.str(value),
        "revoked_at": rfc3339("2001-01-01T00:00:30Z"),
        "expires_at": rfc3339(FUTURE),
        **extra,
    }


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def pact(signing_key: SigningKey) -> Pact:
    pact = Pact(CONSUMER, PROVIDER).with_specification("V4")
    jwk = signing_key.jwk
    (
        pact.upon_receiving("a request for the token verification keys")
        .given(HAS_SIGNING_KEY)
        .with_request("GET", JWKS_PATH)
        .will_respond_with(200)
        .with_body(
            {
                "keys": match.each_like(
                    {
                        "kty": "EC",
                        "crv": "P-256",
                        "alg": "ES256",
                        "use": "sig",
                        "kid": match.regex(jwk["kid"], regex=B64URL_43),
                        "x": match.regex(jwk["x"], regex=B64URL_43),
                        "y": match.regex(jwk["y"], regex=B64URL_43),
                    }
                )
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("a first read of the revocation feed")
        .given(USER_LOGGED_OUT)
        .with_request("GET", FEED_PATH)
        .with_query_parameter("limit", "1000")
        .with_query_parameter("since", match.regex(FIRST_SINCE, regex=FIRST_SINCE_PATTERN))
        .with_header("Authorization", f"Bearer {FEED_TOKEN}")
        .will_respond_with(200)
        .with_body(
            {
                "now": rfc3339(EXAMPLE_NOW),
                "has_more": match.bool(False),
                "items": match.each_like(revocation("token", "3f1c2e9b1e8a4d3c"), min=2),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("a later read of the revocation feed")
        .given(ACCOUNT_DELETED)
        .with_request("GET", FEED_PATH)
        .with_query_parameter("limit", "1000")
        .with_query_parameter("since", match.regex(EXAMPLE_SINCE, regex=LATER_SINCE_PATTERN))
        .with_header("Authorization", f"Bearer {FEED_TOKEN}")
        .will_respond_with(200)
        .with_body(
            {
                "now": rfc3339(EXAMPLE_NOW),
                "has_more": match.bool(False),
                "items": match.each_like(
                    revocation(
                        "subject",
                        "665f1c2e9b1e8a3d4c5b6a79",
                        not_before=rfc3339("2001-01-01T00:00:30Z"),
                        version=match.int(1),
                    ),
                    min=1,
                ),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("a first read of the account events")
        .given(ACCOUNT_DELETED)
        .with_request("GET", EVENTS_PATH)
        .with_query_parameter("after", "0")
        .with_query_parameter("limit", "100")
        .with_header("Authorization", f"Bearer {FEED_TOKEN}")
        .will_respond_with(200)
        .with_body(
            {
                "events": match.each_like(
                    {
                        "sequence": match.int(1),
                        "id": match.regex("0" * 32, regex=r"^[0-9a-f]{32}$"),
                        "type": "account.deleted",
                        "subject": match.regex("665f1c2e9b1e8a3d4c5b6a79", regex=r"^[0-9a-f]{24}$"),
                        "occurred_at": rfc3339("2001-01-01T00:00:30Z"),
                    },
                    min=1,
                ),
                "has_more": match.bool(False),
                "head": match.int(1),
                "oldest": match.int(1),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("a read of the revocation feed with a wrong service token")
        .with_request("GET", FEED_PATH)
        .with_query_parameter("limit", "1000")
        .with_query_parameter("since", rfc3339(EXAMPLE_SINCE))
        .with_header("Authorization", "Bearer not-the-feed-token")
        .will_respond_with(401)
        .with_header("WWW-Authenticate", match.regex('Bearer realm="auth"', regex=r"^Bearer\b.*"))
        .with_body(
            {"status": 401, "code": match.str("invalid_feed_token"), "detail": match.str("x")},
            content_type="application/problem+json",
        )
    )
    return pact


def test_todo_s_clients_honour_the_pact_with_auth(
    pact: Pact, signing_key: SigningKey, make_app: AppFactory
) -> None:
    """One mock auth for every interaction (pact wants them all exercised in one session);
    only when each was met exactly as recorded is the pact file written."""
    with pact.serve(raises=False) as server:
        auth = str(server.url)
        finds_a_key_by_kid(auth, signing_key)
        reads_revocations_then_asks_since_its_last_read(auth)
        treats_a_refused_feed_token_as_a_feed_error(auth)
        consumes_the_account_events(auth, make_app)
        mismatches = server.mismatches
    assert not mismatches, "\n".join(str(mismatch) for mismatch in mismatches)
    pact.write_file(pact_dir(), overwrite=True)


def finds_a_key_by_kid(auth: str, signing_key: SigningKey) -> None:
    keys = RemoteJWKS(f"{auth}{JWKS_PATH}", timeout=5, cooldown=0)
    key = keys.verification_key(signing_key.kid)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.public_numbers() == signing_key.public_key.public_numbers()
    with pytest.raises(UnknownKeyError):
        keys.verification_key("A" * 43)


def reads_revocations_then_asks_since_its_last_read(auth: str) -> None:
    # The examples are from 2001: a window that reaches back to them keeps them in memory.
    feed = RevocationFeed(
        f"{auth}{FEED_PATH}",
        token=FEED_TOKEN,
        poll_seconds=60,
        max_staleness_seconds=0,
        timeout=5,
        window=datetime.now(UTC) - WINDOW_START,
    )
    assert feed.poll()  # since: as far back as revocations can matter
    revoked_token = {"sub": "someone", "jti": "3f1c2e9b1e8a4d3c", "fid": "x", "ver": 0}
    assert feed.revocations.revoke(revoked_token)
    assert not feed.revocations.revoke({**revoked_token, "jti": "another"})
    assert feed.poll()  # since = the first answer's `now` minus 60 s
    old_token = {"sub": "665f1c2e9b1e8a3d4c5b6a79", "jti": "j", "fid": "f", "ver": 0}
    assert feed.revocations.revoke(old_token)
    assert not feed.revocations.revoke({**old_token, "ver": 1})


def treats_a_refused_feed_token_as_a_feed_error(auth: str) -> None:
    feed = RevocationFeed(
        f"{auth}{FEED_PATH}",
        token="not-the-feed-token",
        poll_seconds=60,
        max_staleness_seconds=0,
        timeout=5,
        window=timedelta(minutes=16),
    )
    with pytest.raises(FeedError):
        feed.poll()


def consumes_the_account_events(auth: str, make_app: AppFactory) -> None:
    """todo's own consumer (factory_core.trust.events, with todo's handlers) reads the feed once."""
    app = make_app(
        create_todo,
        JWKS_URL=f"{auth}{JWKS_PATH}",
        REVOCATION_FEED_URL="",
        EVENT_FEED_URL=f"{auth}{EVENTS_PATH}",
        FEED_TOKEN=FEED_TOKEN,
    )
    consumer = event_consumer.consumer(app)
    assert consumer is not None
    consumer.stop()  # no thread: this one round is driven here
    consumer.step()
    assert consumer.lag() == (0, 0.0)  # read and handled up to the feed's head


def test_an_unreachable_jwks_is_a_503_not_a_crash() -> None:
    keys = RemoteJWKS("http://127.0.0.1:9/.well-known/jwks.json", timeout=0.5)
    with pytest.raises(Problem):
        keys.verification_key("A" * 43)
