"""Page metadata: flask-smorest's X-Pagination header and an RFC 8288 Link header."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import request
from flask_smorest import Blueprint

_RELATIONS = (
    ("first", "first_page"),
    ("prev", "previous_page"),
    ("next", "next_page"),
    ("last", "last_page"),
)


def pagination_headers(*, page: int, page_size: int, total: int) -> dict[str, str]:
    """X-Pagination exactly as flask-smorest documents it, and Link to the pages it names."""
    metadata: dict[str, Any] = Blueprint._make_pagination_metadata(page, page_size, total)
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
    """This request's URL with another page number; every other parameter kept in order."""
    args = [(name, value) for name, value in request.args.items(multi=True) if name != "page"]
    return f"{request.base_url}?{urlencode([*args, ('page', str(page))])}"
