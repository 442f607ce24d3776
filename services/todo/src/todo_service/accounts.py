"""What todo does when auth deletes an account: erase everything the user left here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from todo_service.repositories import idempotency_records, todos

logger = logging.getLogger(__name__)


def erase_account(event: Mapping[str, Any]) -> None:
    """``account.deleted``: delete the user's todos and idempotency records (idempotent).

    The account's tokens are refused already, through auth's revocation feed.
    """
    owner = str(event["subject"])
    erased = todos.erase_owner(owner=owner)
    idempotency_records.erase_owner(owner=owner)
    logger.info("erased account %s: %d todos", owner, erased)
