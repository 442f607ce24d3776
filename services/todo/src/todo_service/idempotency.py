"""Idempotency-Key for POST: one key, one effect; retries replay the first response."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo.errors import PyMongoError

from factory_core import Document, Held, Problem
from todo_service.repositories import IdempotencyRepository, KeyQuotaExceededError

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class StoredResponse:
    """The first response to a key, replayed byte for byte."""

    status: int
    body: str
    headers: dict[str, str]


def validate_key(value: str) -> str:
    """The key as sent, or a 422 problem for one that is empty, too long or not ASCII."""
    if not _KEY.fullmatch(value):
        raise Problem(
            422,
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            code="unprocessable_content",
            errors={"headers": {IDEMPOTENCY_KEY_HEADER: ["Not a valid idempotency key."]}},
        )
    return value


def request_fingerprint(body: Any) -> str:
    """A hash of the JSON body, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    *,
    owner: str,
    key: str,
    fingerprint: str,
    ttl: timedelta,
    wait_seconds: float,
    keys_per_day: int,
    create: Callable[[ObjectId], StoredResponse],
    records: IdempotencyRepository,
) -> tuple[StoredResponse, bool]:
    """Run ``create`` at most once per (owner, key); return its response and whether replayed.

    ``create`` gets the resource id reserved for the key, so a request finishing the work of
    a dead first attempt creates the same resource, not a second one.
    """
    while True:
        try:
            claimed = records.claim(
                owner=owner, key=key, fingerprint=fingerprint, ttl=ttl, keys_per_day=keys_per_day
            )
        except KeyQuotaExceededError as exceeded:
            raise Problem(
                429,
                f"At most {keys_per_day} new Idempotency-Keys per day. Retry later.",
                code="idempotency_key_quota_exceeded",
                retry_after=exceeded.retry_after,
            ) from None
        if isinstance(claimed, Held):
            held = claimed
            break
        if claimed["fingerprint"] != fingerprint:
            raise Problem(
                422,
                "This Idempotency-Key was already used with a different request body.",
                code="idempotency_key_reused",
            )
        # Another request has the key: its response once it has one, or its work once it is
        # gone (its lease ran out, or it failed and released it).
        outcome = records.leases.wait(
            claimed["_id"],
            result=lambda record: _stored(record) if record.get("state") == "done" else None,
            seconds=wait_seconds,
            busy=_in_progress,
            take_if={"state": "pending"},
        )
        if isinstance(outcome, StoredResponse):
            return outcome, True
        if isinstance(outcome, Held):
            held = outcome
            break
        # None: the record expired and was removed meanwhile: start over.
    try:
        response = create(held.document["resource_id"])
    except Exception:
        # The record, and the resource id it reserved, stay: the first attempt may have
        # created the resource before it failed (an insert applied, its acknowledgement lost),
        # and the retry must finish that same resource. Released, a retry takes it over at
        # once. Best effort: when the database is what failed, this fails too, and a retry
        # waits for the lease to run out instead (409 with Retry-After meanwhile).
        with contextlib.suppress(PyMongoError):
            held.release()
        raise
    held.update(
        {
            "$set": {
                "state": "done",
                "status": response.status,
                "body": response.body,
                "headers": response.headers,
            }
        }
    )
    return response, False


def _in_progress() -> Problem:
    return Problem(
        409,
        "A request with this Idempotency-Key is still in progress. Retry later.",
        code="idempotency_key_in_progress",
        retry_after=1,
    )


def _stored(record: Document) -> StoredResponse:
    return StoredResponse(
        status=int(record["status"]), body=str(record["body"]), headers=dict(record["headers"])
    )
