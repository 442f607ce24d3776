"""The indexes of login sessions and of the security log: each account's, newest first. Both
expire (MongoDB's TTL monitor, once a minute; readers filter on the expiry too): a session with
its last refresh token, a log entry after SECURITY_EVENT_RETENTION_SECONDS."""

from pymongo import DESCENDING, IndexModel
from pymongo.database import Database

from factory_core import Document, create_indexes, drop_indexes, expiring

INDEXES = {
    "sessions": [
        IndexModel(
            [("user_id", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="user_id_created_at",
        ),
        expiring(),
    ],
    "security_events": [
        IndexModel(
            [("user_id", DESCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="user_id_at"
        ),
        expiring(),
    ],
}


def up(db: Database[Document]) -> None:
    create_indexes(db, INDEXES)


def down(db: Database[Document]) -> None:
    drop_indexes(db, INDEXES)
