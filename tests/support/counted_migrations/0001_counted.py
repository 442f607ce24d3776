"""Counts its runs and its undoings (MIGRATION_TEST_SLEEP widens a race)."""

import os
import time

from pymongo.database import Database

from factory_core import Document


def up(db: Database[Document]) -> None:
    db.step_runs.update_one({"_id": "0001"}, {"$inc": {"runs": 1}}, upsert=True)
    time.sleep(float(os.environ.get("MIGRATION_TEST_SLEEP", "0")))


def down(db: Database[Document]) -> None:
    db.step_runs.update_one({"_id": "0001"}, {"$inc": {"downs": 1}}, upsert=True)
