"""Marks every thing done, counting each change (MIGRATION_TEST_DELAY: seconds per thing)."""

import os
import time
from typing import Any

from pymongo.database import Database

from factory_core import Document, in_batches


def _change(_thing: Document) -> dict[str, Any]:
    time.sleep(float(os.environ.get("MIGRATION_TEST_DELAY", "0")))
    return {"$set": {"done": True}, "$inc": {"changes": 1}}


def up(db: Database[Document]) -> None:
    in_batches(db.things, {"done": {"$ne": True}}, _change, size=100)
