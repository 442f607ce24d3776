"""The sample's indexes: items by name, sessions that expire."""

from pymongo import IndexModel
from pymongo.database import Database

from factory_core import Document, create_indexes, expiring


def up(db: Database[Document]) -> None:
    create_indexes(
        db, {"items": [IndexModel([("name", 1)], name="name_1")], "sessions": [expiring()]}
    )
