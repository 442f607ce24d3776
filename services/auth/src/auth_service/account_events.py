"""Account events other services act on: ``account.deleted`` (erase what the user left there).

A deletion records its event in the account's own document, in the same update that makes the
account unusable (MongoDB updates one document atomically: a transactional outbox without
transactions), then publishes it to the event log and only then deletes the document. Should
auth die in between, the next read of the event feed publishes what was recorded (relay), so
the event is never lost; publishing is idempotent (by the event's id).

Only deletion is published: a disabled account's tokens are already refused everywhere through
the revocation feed, and its data must stay for when it is enabled again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app

from auth_service.repositories import (
    events,
    recovery_tokens,
    security_events,
    sessions,
    trusted_addresses,
    users,
)
from auth_service.tokens import revoke_all
from factory_core import Document, mongo

ACCOUNT_DELETED = "account.deleted"
#: An event recorded this long ago and still not published was cut short: relay it.
RELAY_AFTER = timedelta(seconds=5)
#: Accounts relayed per read of the feed, at the most.
RELAY_LIMIT = 100


def delete_account(user: Document) -> None:
    """Revoke every token and record ``account.deleted`` (one transaction: a revocation
    without the account's new token version would refuse every later login's tokens), then
    publish it and delete the account."""
    event = {
        "id": uuid.uuid4().hex,
        "type": ACCOUNT_DELETED,
        "subject": str(user["_id"]),
        "occurred_at": datetime.now(UTC),
    }

    def mark() -> bool:
        version = revoke_all(user)
        return users.mark_deleting(user_id=user["_id"], token_version=version, event=event)

    if mongo.transaction(mark):
        _publish(user, event)


def relay_unpublished() -> None:
    """Publish the events of deletions that auth did not finish (it died in between)."""
    older_than = datetime.now(UTC) - RELAY_AFTER
    for user in users.with_unpublished_events(older_than=older_than, limit=RELAY_LIMIT):
        for event in user["outbox"]:
            _publish(user, event)


def _publish(user: Document, event: Document) -> None:
    retention = timedelta(seconds=int(current_app.config["EVENT_RETENTION_SECONDS"]))
    events.publish(event, retention=retention)
    sessions.erase(user_id=str(user["_id"]))
    security_events.erase(user_id=str(user["_id"]))
    recovery_tokens.erase(user_id=user["_id"])
    trusted_addresses.erase(user_id=user["_id"])
    users.delete_published(user_id=user["_id"], event_id=event["id"])
