"""The in-memory revocation list: what each kind of feed item revokes, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory_core.trust.revocations import OVERLAP, FeedError, Revocations

NOW = datetime(2030, 1, 1, tzinfo=UTC)
REVOKED_AT = "2030-01-01T00:00:00Z"
LATER = "2030-02-01T00:00:00Z"
WINDOW = timedelta(minutes=15, seconds=5)


def _claims(**claims: object) -> dict[str, object]:
    return {"sub": "u1", "jti": "j1", "fid": "f1", "iat": int(NOW.timestamp()), **claims}


def _item(kind: str, value: str, **extra: object) -> dict[str, object]:
    return {"kind": kind, "value": value, "revoked_at": REVOKED_AT, "expires_at": LATER, **extra}


def test_token_family_and_subject_items() -> None:
    revocations = Revocations(window=WINDOW)
    revocations.add(_item("token", "j1"))
    revocations.add(_item("family", "f2"))
    revocations.add(_item("subject", "u3", not_before=REVOKED_AT, version=4))
    assert revocations.revoke(_claims())
    assert not revocations.revoke(_claims(jti="j2"))
    assert revocations.revoke(_claims(jti="j2", fid="f2"))
    # Subjects: by the account's token version when the token carries one...
    assert revocations.revoke(_claims(jti="j2", sub="u3", ver=3))
    assert not revocations.revoke(_claims(jti="j2", sub="u3", ver=4))
    # ... else by its issue time.
    before = int(NOW.timestamp()) - 1
    assert revocations.revoke(_claims(jti="j2", sub="u3", iat=before))
    assert not revocations.revoke(_claims(jti="j2", sub="u3", iat=int(NOW.timestamp())))


def test_the_latest_subject_cutoff_wins() -> None:
    revocations = Revocations(window=WINDOW)
    for not_before, version in (("2030-01-01T00:00:10Z", 7), ("2030-01-01T00:00:05Z", 5)):
        revocations.add(_item("subject", "u1", not_before=not_before, version=version))
    assert revocations.revoke(_claims(jti="x", iat=int(NOW.timestamp()) + 9))
    assert revocations.revoke(_claims(jti="x", ver=6))
    assert not revocations.revoke(_claims(jti="x", ver=7))


def test_items_are_kept_while_an_access_token_they_cover_can_live() -> None:
    revocations = Revocations(window=WINDOW)
    revocations.add(_item("token", "short", expires_at="2030-01-01T00:05:00Z"))
    revocations.add(_item("family", "f1"))  # a 30-day record: only the window matters here
    assert revocations.tokens["short"] == datetime(2030, 1, 1, 0, 5, tzinfo=UTC)
    assert revocations.families["f1"] == NOW + WINDOW + OVERLAP
    revocations.forget_expired(NOW + timedelta(minutes=10))
    assert set(revocations.tokens) == set()
    assert set(revocations.families) == {"f1"}
    revocations.forget_expired(NOW + WINDOW + OVERLAP)
    assert revocations.families == {}


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "token", "revoked_at": REVOKED_AT, "expires_at": LATER},
        _item("token", "j", expires_at="yesterday"),
        _item("token", "j", expires_at="2030-01-02T00:00:00"),
        _item("token", "j", revoked_at=None),
        _item("subject", "u"),
        _item("subject", "u", not_before=REVOKED_AT, version="7"),
    ],
)
def test_malformed_items_are_feed_errors(item: dict[str, str]) -> None:
    with pytest.raises(FeedError):
        Revocations(window=WINDOW).add(item)
