"""The indexes of todos, their counts and Idempotency-Keys.

A database made before migrations has them already: creating an index that exists alike is a
no-op, so it adopts this step without rebuilding anything.
"""

from pymongo import ASCENDING, IndexModel
from pymongo.collation import Collation
from pymongo.database import Database

from factory_core import Document, create_indexes, drop_indexes, expiring

INDEXES = {
    # Every list query walks one of these for its owner and sort, never the whole collection.
    "todos": [
        *(
            IndexModel([("owner", ASCENDING), (field, ASCENDING), ("_id", ASCENDING)], name=name)
            for name, field in (
                ("owner_created_at", "created_at"),
                ("owner_due", "due"),
                ("owner_priority", "priority_rank"),
            )
        ),
        IndexModel(
            [("owner", ASCENDING), ("title", ASCENDING), ("_id", ASCENDING)],
            name="owner_title_collated",
            collation=Collation(locale="en", strength=2),  # the list's TITLE_COLLATION
        ),
        IndexModel([("owner", ASCENDING), ("tags", ASCENDING)], name="owner_tags"),
        IndexModel(
            [("owner", ASCENDING), ("done", ASCENDING), ("created_at", ASCENDING)],
            name="owner_done_created_at",
        ),
    ],
    # The unique (owner, key) index decides between concurrent first requests with a key.
    "idempotency_keys": [
        IndexModel([("owner", ASCENDING), ("key", ASCENDING)], unique=True, name="owner_key"),
        expiring(),
    ],
    "idempotency_key_quotas": [expiring()],
}


def up(db: Database[Document]) -> None:
    create_indexes(db, INDEXES)


def down(db: Database[Document]) -> None:
    drop_indexes(db, INDEXES)
