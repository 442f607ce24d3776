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
    return _versions(todo_id, request.if_match.as_set())  # strong: If-Match compares so


def if_none_match_versions(todo_id: str) -> list[int] | None:
    """The versions If-None-Match refuses on a write (RFC 9110 section 13.1.2, a weak
    comparison); None for ``*``: any stored one. None sent: none refused."""
    if request.if_none_match.star_tag:
        return None
    return _versions(todo_id, request.if_none_match.as_set(include_weak=True))


def _versions(todo_id: str, tags: set[str]) -> list[int]:
    versions = []
    prefix = f"{todo_id}."
    for tag in tags:
        version = tag.removeprefix(prefix)
        if tag.startswith(prefix) and version.isascii() and version.isdigit() and len(version) < 12:
            versions.append(int(version))
    return versions


def not_modified(etag: str) -> bool:
    """If-None-Match (weak comparison) already names this representation."""
    return request.if_none_match.contains_weak(etag.strip('"'))
