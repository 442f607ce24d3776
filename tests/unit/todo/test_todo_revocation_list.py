"""The in-memory revocation list: what each kind of feed item revokes, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from todo_service.revocations import FeedError, Revocations

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LATER = "2030-01-02T00:00:00Z"


def _claims(**claims: object) -> dict[str, object]:
    return {"sub": "u1", "jti": "j1", "fid": "f1", "iat": int(NOW.timestamp()), **claims}


def test_token_family_and_subject_items() -> None:
    revocations = Revocations()
    revocations.add({"kind": "token", "value": "j1", "expires_at": LATER})
    revocations.add({"kind": "family", "value": "f2", "expires_at": LATER})
    revocations.add(
        {
            "kind": "subject",
            "value": "u3",
            "not_before": "2030-01-01T00:00:00Z",
            "expires_at": LATER,
        }
    )
    assert revocations.revoke(_claims())
    assert not revocations.revoke(_claims(jti="j2"))
    assert revocations.revoke(_claims(jti="j2", fid="f2"))
    before = int(NOW.timestamp()) - 1
    assert revocations.revoke(_claims(jti="j2", sub="u3", iat=before))
    assert not revocations.revoke(_claims(jti="j2", sub="u3", iat=int(NOW.timestamp())))


def test_the_latest_subject_cutoff_wins() -> None:
    revocations = Revocations()
    for not_before in ("2030-01-01T00:00:10Z", "2030-01-01T00:00:05Z"):
        revocations.add(
            {"kind": "subject", "value": "u1", "not_before": not_before, "expires_at": LATER}
        )
    assert revocations.revoke(_claims(jti="x", iat=int(NOW.timestamp()) + 9))


def test_expired_entries_are_forgotten() -> None:
    revocations = Revocations()
    revocations.add({"kind": "token", "value": "j1", "expires_at": "2029-12-31T23:59:59Z"})
    revocations.add({"kind": "token", "value": "j2", "expires_at": LATER})
    revocations.forget_expired(NOW)
    assert set(revocations.tokens) == {"j2"}
    revocations.forget_expired(NOW + timedelta(days=2))
    assert revocations.tokens == {}


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "token", "expires_at": LATER},
        {"kind": "token", "value": "j", "expires_at": "yesterday"},
        {"kind": "token", "value": "j", "expires_at": "2030-01-02T00:00:00"},
        {"kind": "subject", "value": "u", "expires_at": LATER},
    ],
)
def test_malformed_items_are_feed_errors(item: dict[str, str]) -> None:
    with pytest.raises(FeedError):
        Revocations().add(item)
