"""Conditional requests (RFC 9110): version-based strong ETags, If-Match and If-None-Match."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request

from factory_core import Problem


def etag_for(todo: Mapping[str, Any]) -> str:
    """The strong ETag of a stored todo: its id and version, so If-Match maps to a filter."""
    return f'"{todo["_id"]}.{todo["version"]}"'


def if_match_versions(todo_id: str, *, required: bool) -> list[int] | None:
    """The versions If-Match accepts for ``todo_id``: None means any (``*`` or no header).

    Without the header: 428 when ``required``. An ETag of another todo, a weak or a
    malformed one matches no version, which ends in 412 once the todo is found.
    """
    if not request.headers.get("If-Match", "").strip():
        if required:
            raise Problem(
                428,
                "This request needs an If-Match header with the todo's current ETag.",
                code="if_match_required",
            )
        return None
    if request.if_match.star_tag:
        return None
    versions = []
    prefix = f"{todo_id}."
    for tag in request.if_match.as_set():  # strong ETags only: If-Match compares strongly
        version = tag.removeprefix(prefix)
        if tag.startswith(prefix) and version.isascii() and version.isdigit() and len(version) < 12:
            versions.append(int(version))
    return versions


def not_modified(etag: str) -> bool:
    """If-None-Match (weak comparison) already names this representation."""
    return request.if_none_match.contains_weak(etag.strip('"'))
