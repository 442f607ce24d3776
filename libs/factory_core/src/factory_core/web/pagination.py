"""Pages: keyset cursors (no skip, no count), the Link and X-Pagination headers; the cursor is
signed with SECRET_KEY, expires, and is bound to its list (docs/services/todo.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from bson import json_util
from flask import current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer
from pymongo.collection import Collection

from factory_core.data.mongo import Document
from factory_core.trust.tokens import current_subject
from factory_core.web.errors import Problem

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: page * page_size stays far below what a skip can take; deeper pages are not browsing.
MAX_PAGE = 100_000
#: A new salt makes every cursor of the previous format a 400 (clients start over).
CURSOR_SALT = "factory_core.cursor.v1"

#: A list's sort: (stored field, 1 or -1) pairs, the last one ``_id`` (unique: no ties).
Order = Sequence[tuple[str, int]]

#: The OpenAPI header component documenting X-Pagination (Api.register_core_components), JSON
#: of flask-smorest's PaginationMetadataSchema.
PAGE_METADATA_HEADER = "PAGE_METADATA"
#: How the list operations document their page headers.
PAGE_HEADERS = {
    "X-Pagination": PAGE_METADATA_HEADER,
    "Link": {
        "description": 'RFC 8288 links: rel="next" (with its cursor) while there are more '
        'items, and rel="first". With the deprecated page: first, prev, next and last.',
        "schema": {"type": "string"},
    },
}

_RELATIONS = (
    ("first", "first_page"),
    ("prev", "previous_page"),
    ("next", "next_page"),
    ("last", "last_page"),
)


class PageArgsSchema(ma.Schema):
    """``after`` and ``page_size``; subclass it to add a list's filters (a query argument no
    schema of the operation names is a 422)."""

    after = ma.fields.String(
        validate=ma.validate.Length(min=1, max=2048),
        metadata={
            "description": 'The cursor of the page before: follow the Link rel="next". '
            "Bound to the list, its sort and filters; expires (CURSOR_MAX_AGE_SECONDS)."
        },
    )
    page_size = ma.fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class NumberedPageArgsSchema(PageArgsSchema):
    """PageArgsSchema and the deprecated ``page`` number, for lists published with it."""

    page = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=MAX_PAGE),
        metadata={
            "deprecated": True,
            "description": "Deprecated: a page number, read with a skip and a count whose "
            "cost grows with the page and the list. Use after.",
        },
    )

    @ma.validates_schema
    def one_way(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if "after" in data and "page" in data:
            raise ma.ValidationError("Send after or page, not both.", "after")


@dataclass(frozen=True)
class Page:
    """The page a list was asked for, from ``requested_page``."""

    size: int
    order: Order
    #: The cursor's sort key (the last item before this page); None for the first page.
    after: Sequence[Any] | None = None
    #: This page's number: carried by the cursor for X-Pagination, or the deprecated page.
    number: int = 1
    #: True for the deprecated ``page`` (skip and count).
    numbered: bool = False
    #: What the cursor is bound to (view, caller, order, filters), as a digest.
    binding: str = ""

    @property
    def skip(self) -> int:
        return (self.number - 1) * self.size


def requested_page(args: dict[str, Any], order: Order) -> Page:
    """The page ``args`` ask for, sorted by ``order``; pops the page arguments from ``args``, and
    the rest (filters, sort) binds the cursor, with the view and the caller."""
    after, number = args.pop("after", None), args.pop("page", None)
    size = args.pop("page_size", DEFAULT_PAGE_SIZE)
    binding = _binding(args, order)
    if number is not None:
        return Page(size, order, number=number, numbered=True, binding=binding)
    if after is None:
        return Page(size, order, binding=binding)
    try:
        bound, number, key = _serializer().loads(
            after, max_age=int(current_app.config["CURSOR_MAX_AGE_SECONDS"])
        )
    except (BadData, TypeError, ValueError) as error:
        raise _bad_cursor("The cursor is not valid, or has expired.") from error
    valid = isinstance(number, int) and isinstance(key, list) and len(key) == len(order)
    if not valid or bound != binding:
        raise _bad_cursor("The cursor belongs to another list, sort or filter.")
    return Page(size, order, after=key, number=number, binding=binding)


def find_page(
    collection: Collection[Document], query: Document, page: Page, **find: Any
) -> list[Document]:
    """One page of ``query`` in the page's order, plus one item if there are more: a limit on
    an index range, never a skip (unless the deprecated page number asks for one)."""
    if page.numbered:
        return list(
            collection.find(query, sort=page.order, skip=page.skip, limit=page.size, **find)
        )
    if page.after is not None:
        query = {"$and": [query, after_key(page.order, page.after)]}
    return list(collection.find(query, sort=page.order, limit=page.size + 1, **find))


def after_key(order: Order, key: Sequence[Any]) -> Document:
    """The filter of what sorts after ``key`` in ``order``, each field's null sorting first
    (MongoDB's order; its comparisons never match across types, so null is spelled out)."""
    branches: list[Document] = []
    equal: Document = {}
    for (name, direction), value in zip(order, key, strict=True):
        beyond: list[Document]
        if direction > 0:
            beyond = [{name: {"$ne": None}}] if value is None else [{name: {"$gt": value}}]
        else:
            beyond = [] if value is None else [{name: {"$lt": value}}, {name: None}]
        branches.extend({**equal, **condition} for condition in beyond)
        equal = {**equal, name: value}
    return {"$or": branches}  # never empty: _id, last, is never null


def page_of(
    found: list[Document], page: Page, *, total: int | None = None
) -> tuple[list[Document], dict[str, str]]:
    """The page's items (``found`` from ``find_page``) and its headers: Link, and X-Pagination
    when the ``total`` is known cheaply (or always, for the deprecated page number)."""
    if page.numbered:
        assert total is not None, "the deprecated page number always reports a total"
        return found, pagination_headers(page=page.number, page_size=page.size, total=total)
    items, more = found[: page.size], len(found) > page.size
    headers: dict[str, str] = {}
    if total is not None:
        metadata = page_metadata(page=page.number, page_size=page.size, total=total)
        headers["X-Pagination"] = json.dumps(metadata)
    links = []
    if page.after is not None or more:  # a first page that is the only one links nowhere
        links.append(f'<{_url(drop=("after",))}>; rel="first"')
    if more:
        key = [items[-1].get(name) for name, _ in page.order]
        cursor = _serializer().dumps([page.binding, page.number + 1, key])
        links.append(f'<{_url(drop=("after",), add=("after", cursor))}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return items, headers


def page_metadata(*, page: int, page_size: int, total: int) -> dict[str, int]:
    """X-Pagination's object, in flask-smorest's shape (see PAGE_METADATA_HEADER)."""
    if total == 0:
        return {"total": 0, "total_pages": 0}
    last = (total - 1) // page_size + 1
    metadata = {"total": total, "total_pages": last, "first_page": 1, "last_page": last}
    if page <= last:
        metadata["page"] = page
        if page > 1:
            metadata["previous_page"] = page - 1
        if page < last:
            metadata["next_page"] = page + 1
    return metadata


def pagination_headers(*, page: int, page_size: int, total: int) -> dict[str, str]:
    """X-Pagination and a Link header to the numbered pages it names (the deprecated page)."""
    metadata: dict[str, Any] = page_metadata(page=page, page_size=page_size, total=total)
    headers = {"X-Pagination": json.dumps(metadata)}
    links = [
        f'<{_url(drop=("page",), add=("page", str(metadata[name])))}>; rel="{relation}"'
        for relation, name in _RELATIONS
        if name in metadata
    ]
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def _url(*, drop: tuple[str, ...], add: tuple[str, str] | None = None) -> str:
    """This request's path and query, less ``drop``, plus ``add``; every other parameter kept
    in order. Relative: a URL built from the Host would carry whatever host was sent."""
    args = [(name, value) for name, value in request.args.items(multi=True) if name not in drop]
    query = urlencode([*args, add] if add else args)
    return f"{request.script_root}{request.path}{'?' if query else ''}{query}"


def _binding(filters: Mapping[str, Any], order: Order) -> str:
    try:
        subject = current_subject()
    except RuntimeError:  # a list open to anyone
        subject = None
    what = [
        request.endpoint,
        subject,
        [list(pair) for pair in order],
        dict(sorted(filters.items())),
    ]
    return hashlib.sha256(json_util.dumps(what).encode()).hexdigest()[:24]


class _ExtendedJSON:
    """itsdangerous' serializer: MongoDB Extended JSON keeps a key's dates and ObjectIds."""

    @staticmethod
    def dumps(value: Any) -> str:
        return json_util.dumps(value, separators=(",", ":"))

    @staticmethod
    def loads(text: str | bytes) -> Any:
        return json_util.loads(text, json_options=_JSON_OPTIONS)


_JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=UTC)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=CURSOR_SALT, serializer=_ExtendedJSON
    )


def _bad_cursor(detail: str) -> Problem:
    return Problem(400, detail, code="invalid_cursor")
