"""The indexes of accounts, tokens, revocations, the event feed, rate limits and the outbox.

A database made before migrations has them already: creating an index that exists alike is a
no-op, so it adopts this step without rebuilding anything. Expiring documents are removed by
MongoDB's TTL monitor (once a minute); readers filter on their expiry too.
"""

from pymongo import ASCENDING, IndexModel
from pymongo.database import Database

from factory_core import OUTBOX_INDEXES, Document, create_indexes, drop_indexes, expiring

INDEXES = {
    "users": [
        IndexModel([("username_key", ASCENDING)], unique=True, name="username_key"),
        # Only accounts whose deletion is being published have it.
        IndexModel([("outbox_at", ASCENDING)], sparse=True, name="outbox_at"),
        # Password reset by e-mail address (not unique: accounts may share one).
        IndexModel([("email_key", ASCENDING)], sparse=True, name="email_key"),
    ],
    # Records are needed only while the token could still verify.
    "refresh_token_uses": [expiring()],
    "refresh_token_successors": [expiring()],
    "revocations": [
        IndexModel([("kind", ASCENDING), ("value", ASCENDING)], unique=True, name="kind"),
        IndexModel([("revoked_at", ASCENDING), ("_id", ASCENDING)], name="revoked_at"),
        expiring(),
    ],
    # Kept EVENT_RETENTION_SECONDS: long enough for a consumer down for a day to catch up.
    "account_events": [IndexModel([("id", ASCENDING)], unique=True, name="id"), expiring()],
    "recovery_tokens": [
        expiring(),
        IndexModel([("digest", ASCENDING)], unique=True, sparse=True, name="digest"),
    ],
    "trusted_addresses": [expiring()],
    # limits would create these when it opens a client of its own; it uses factory_core's.
    "rate_limit_windows": [expiring("expireAt")],
    "rate_limit_counters": [expiring("expireAt")],
    **OUTBOX_INDEXES,
}


def up(db: Database[Document]) -> None:
    create_indexes(db, INDEXES)


def down(db: Database[Document]) -> None:
    drop_indexes(db, INDEXES)
