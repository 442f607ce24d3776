"""Pages: the query arguments, the X-Pagination header and an RFC 8288 Link header."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import request

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: page * page_size stays far below what a skip can take; deeper pages are not browsing.
MAX_PAGE = 100_000

#: The OpenAPI header component documenting X-Pagination (Api.register_core_components).
PAGE_METADATA_HEADER = "PAGE_METADATA"
#: How the list operations document their page headers.
PAGE_HEADERS = {
    "X-Pagination": PAGE_METADATA_HEADER,
    "Link": {
        "description": "RFC 8288 links to the first, prev, next and last pages.",
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
    """``page`` and ``page_size`` query arguments; subclass it to add a list's filters.

    A query argument no schema of the operation names is a 422 (``factory_core.web.api``).
    """

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


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
    """X-Pagination and a Link header to the pages it names."""
    metadata: dict[str, Any] = page_metadata(page=page, page_size=page_size, total=total)
    headers = {"X-Pagination": json.dumps(metadata)}
    links = [
        f'<{page_url(metadata[name])}>; rel="{relation}"'
        for relation, name in _RELATIONS
        if name in metadata
    ]
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def page_url(page: int) -> str:
    """This request's path with another page number; every other parameter kept in order.

    A relative reference: a URL built from the request's Host would carry whatever host the
    client (or anyone in between) sent, into caches and clients that follow the links.
    """
    args = [(name, value) for name, value in request.args.items(multi=True) if name != "page"]
    return f"{request.script_root}{request.path}?{urlencode([*args, ('page', str(page))])}"
