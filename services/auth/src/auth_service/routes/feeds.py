"""What other services read with the shared feed token: revocations and account events."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import pymongo
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service.account_events import relay_unpublished
from auth_service.repositories import events, revocations
from auth_service.schemas import (
    EventFeedSchema,
    EventQuerySchema,
    RevocationFeedSchema,
    RevocationQuerySchema,
)
from factory_core import Document, unauthorized

blp = Blueprint(
    "feeds", __name__, description="Revocations and account events, for services (feed token)."
)

#: OpenAPI security scheme of both feeds (a shared service secret, not a JWT).
FEED_SCHEME = "feedToken"


#: A feed read's database budget, below the request's own: its readers give up after 2 s
#: (REVOCATION_TIMEOUT_SECONDS), and while the database hangs, many readers polling must not
#: hold every worker that logins and refreshes need.
FEED_DATABASE_SECONDS = 1.0


def feed_token_required(view: Any) -> Any:
    """401 unless the request carries ``Authorization: Bearer <FEED_TOKEN>``; the
    view's database work within FEED_DATABASE_SECONDS."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Split by hand: Werkzeug reads a token holding "=" as auth parameters, not a token.
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        sent = sent.strip() if scheme.lower() == "bearer" else ""
        expected = str(current_app.config["FEED_TOKEN"])
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise unauthorized(
                "The revocation feed needs the service token (Authorization: Bearer <token>).",
                code="invalid_feed_token",
            )
        with pymongo.timeout(FEED_DATABASE_SECONDS):
            return view(*args, **kwargs)

    return wrapper


@blp.route("/auth/revocations")
class RevocationList(MethodView):
    @feed_token_required
    @blp.doc(security=[{FEED_SCHEME: []}])
    @blp.arguments(RevocationQuerySchema(), location="query")
    @blp.response(200, RevocationFeedSchema())
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="listRevocations")
    def get(self, args: Document) -> Document:
        """Revocations since a time, oldest first, for services that verify tokens offline"""
        # Taken before the query: a consumer asking again from `now` misses nothing written
        # during it (and asks with a 60 s overlap anyway).
        now = datetime.now(UTC)
        items, has_more = revocations.since(since=args.get("since"), limit=args["limit"])
        return {"now": now, "has_more": has_more, "items": items}


@blp.route("/auth/events")
class AccountEventList(MethodView):
    @feed_token_required
    @blp.doc(security=[{FEED_SCHEME: []}])
    @blp.arguments(EventQuerySchema(), location="query")
    @blp.response(200, EventFeedSchema())
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="listAccountEvents")
    def get(self, args: Document) -> Document:
        """Account events after a sequence, in order, for services that act on them"""
        # Deletions auth did not finish publishing (it died in between) are published first.
        relay_unpublished()
        found, has_more = events.after(cursor=args["after"], limit=args["limit"])
        # After the read: every number on the page was given out by then.
        return {
            "events": found,
            "has_more": has_more,
            "head": events.head(),
            "oldest": events.oldest(),
        }
