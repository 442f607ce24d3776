"""auth's revocation feed: revoked tokens are 401 within a poll; a stale feed fails closed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from tests.support import AppFactory
from tests.support.devdb import free_port
from tests.support.tokens import IssuerServer
from tests.support.waiting import eventually

from factory_core.trust import revocations
from factory_core.trust.issuer import revocation_feed

DEADLINE = 10.0


def _status(app: Any, token: str) -> Any:
    return app.test_client().get("/todos", headers={"Authorization": f"Bearer {token}"})


def _eventually(check: Callable[[], Any], expected: int) -> Any:
    """The answer once its status is ``expected`` (or the last one, after DEADLINE)."""
    return eventually(check, lambda answer: answer.status_code == expected, within=DEADLINE)


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_a_revoked_token_is_401_within_a_poll(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory()
    issuer = auth_server.issuer
    token, other = issuer.access_token("u1"), issuer.access_token("u1")
    assert _status(app, token).status_code == 200
    auth_server.revoke_token(_claims(token)["jti"])
    response = _eventually(lambda: _status(app, token), 401)
    assert response.status_code == 401
    assert response.json["code"] == "token_revoked"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _status(app, other).status_code == 200


def test_a_revoked_family_revokes_its_tokens(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory()
    issuer = auth_server.issuer
    stolen = issuer.access_token("u1", fid="family-1")
    sibling = issuer.access_token("u1", fid="family-1")
    unrelated = issuer.access_token("u1", fid="family-2")
    assert _status(app, stolen).status_code == 200
    auth_server.revoke_family("family-1")
    assert _eventually(lambda: _status(app, stolen), 401).status_code == 401
    assert _status(app, sibling).status_code == 401
    assert _status(app, unrelated).status_code == 200


def test_a_subject_cutoff_revokes_tokens_issued_before_it(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory()
    issuer = auth_server.issuer
    now = int(time.time())
    old = issuer.access_token("u1", iat=now - 60, exp=now + 840)
    new = issuer.access_token("u1", iat=now)
    someone_else = issuer.access_token("u2", iat=now - 60, exp=now + 840)
    assert _status(app, old).status_code == 200
    auth_server.revoke_subject("u1", not_before=datetime.fromtimestamp(now - 30, UTC))
    assert _eventually(lambda: _status(app, old), 401).status_code == 401
    assert _status(app, new).status_code == 200
    assert _status(app, someone_else).status_code == 200


def test_a_subject_version_revokes_tokens_below_it(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory()
    issuer = auth_server.issuer
    old, current = issuer.access_token("u1", ver=2), issuer.access_token("u1", ver=3)
    assert _status(app, old).status_code == 200
    # A time cut-off in the future would revoke both by iat: the version decides for tokens
    # that carry one.
    auth_server.revoke_subject("u1", not_before=datetime.now(UTC) + timedelta(hours=1), version=3)
    assert _eventually(lambda: _status(app, old), 401).status_code == 401
    assert _status(app, current).status_code == 200


def test_revocations_are_honoured_from_a_workers_first_request(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    """After a restart, the first request already knows what auth revoked before."""
    token = auth_server.issuer.access_token("u1")
    auth_server.revoke_token(_claims(token)["jti"])
    app = todo_factory(REVOCATION_POLL_SECONDS=30)
    assert _status(app, token).status_code == 401


def test_many_pages_are_read(todo_factory: AppFactory, auth_server: IssuerServer) -> None:
    issuer = auth_server.issuer
    tokens = [issuer.access_token("u1") for _ in range(5)]
    for token in tokens:
        auth_server.revoke_token(_claims(token)["jti"])
    # Pages of 2: the consumer asks again from the last revoked_at while has_more is true.
    original = auth_server.feed_page
    auth_server.feed_page = lambda since, limit: original(since, 2)  # type: ignore[method-assign]
    app = todo_factory()
    assert [_status(app, token).status_code for token in tokens] == [401] * 5


def test_a_stale_feed_fails_closed_and_recovers(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(REVOCATION_POLL_SECONDS=0.1, REVOCATION_MAX_STALENESS_SECONDS=0.5)
    token = auth_server.issuer.access_token("u1")
    assert _status(app, token).status_code == 200
    auth_server.stop()  # keys stay cached; only the feed is missed
    response = _eventually(lambda: _status(app, token), 503)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "revocations_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert app.test_client().get("/livez").status_code == 200
    auth_server.start()
    assert _eventually(lambda: _status(app, token), 200).status_code == 200


def test_a_feed_never_read_fails_closed(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(FEED_TOKEN="not-the-shared-secret")
    response = _status(app, auth_server.issuer.access_token("u1"))
    assert response.status_code == 503
    assert response.json["code"] == "revocations_unavailable"


def test_fail_open_when_staleness_is_zero(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/auth/revocations"
    app = todo_factory(REVOCATION_FEED_URL=nowhere, REVOCATION_MAX_STALENESS_SECONDS=0)
    assert _status(app, auth_server.issuer.access_token("u1")).status_code == 200


def test_expired_revocations_are_forgotten(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    auth_server.revoke_token("gone", lifetime=timedelta(seconds=-1))
    auth_server.revoke_token("kept")
    app = todo_factory()
    assert _status(app, auth_server.issuer.access_token("u1")).status_code == 200
    feed = revocation_feed(app)
    assert feed is not None
    assert set(feed.revocations.tokens) == {"kept"}


def test_a_new_worker_reads_every_revocation_that_can_still_matter(
    todo_factory: AppFactory, auth_server: IssuerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many older revocations must not hide a newer one from a worker's first poll.

    The feed's page size and the consumer's pages per poll are scaled down: 20 old
    revocations stand for more than 100,000.
    """
    monkeypatch.setattr(revocations, "PAGE_LIMIT", 2)
    monkeypatch.setattr(revocations, "MAX_PAGES_PER_POLL", 3)
    issuer = auth_server.issuer
    now = datetime.now(UTC)
    for n in range(20):
        auth_server.revoke_token(f"old-{n}", at=now - timedelta(minutes=10) + timedelta(seconds=n))
    issued = int(time.time()) - 180
    logged_out = issuer.access_token("u1", iat=issued, nbf=issued, exp=issued + 15 * 60)
    # Revoked two minutes ago: older than the consumer's 60 s overlap, inside the token's life.
    auth_server.revoke_token(_claims(logged_out)["jti"], at=now - timedelta(minutes=2))
    app = todo_factory(REVOCATION_POLL_SECONDS=0.1)
    refused = _eventually(lambda: _status(app, logged_out), 401)
    assert (refused.status_code, refused.json["code"]) == (401, "token_revoked")
    assert _status(app, issuer.access_token("u1")).status_code == 200


def test_revocations_older_than_an_access_token_are_not_read_nor_kept(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    """Only the access-token lifetime (plus leeway) matters: a 30-day family record does not."""
    now = datetime.now(UTC)
    auth_server.revoke_family("ancient", at=now - timedelta(hours=2))
    auth_server.revoke_family("recent")
    app = todo_factory(ACCESS_TOKEN_MAX_LIFETIME_SECONDS=900)
    assert _status(app, auth_server.issuer.access_token("u1")).status_code == 200
    feed = revocation_feed(app)
    assert feed is not None
    assert set(feed.revocations.families) == {"recent"}
    # Kept until no access token of the family can be valid, not for the record's 30 days.
    assert feed.revocations.families["recent"] < now + timedelta(minutes=20)


def test_a_token_living_longer_than_the_issuers_access_tokens_is_refused(
    todo_factory: AppFactory, auth_server: IssuerServer
) -> None:
    app = todo_factory(ACCESS_TOKEN_MAX_LIFETIME_SECONDS=900)
    now = int(time.time())
    long_lived = auth_server.issuer.access_token("u1", iat=now, nbf=now, exp=now + 3600)
    response = _status(app, long_lived)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"
