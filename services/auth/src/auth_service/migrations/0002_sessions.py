"""The index of login sessions: each account's, newest first; a record expires with its last
refresh token (MongoDB's TTL monitor, once a minute; readers filter on the expiry too)."""

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
}


def up(db: Database[Document]) -> None:
    create_indexes(db, INDEXES)


def down(db: Database[Document]) -> None:
    drop_indexes(db, INDEXES)
