"""MkDocs hook: the settings tables of the configuration page, made from the settings classes.

A page writes ``<!-- settings: package.module:Class -->``; the hook puts a table there: each
setting the class declares itself, its default and the ``#:`` comment above it in the source.
So the documentation is the code's: a setting without a comment fails the build
(tests/unit/test_docs.py builds it in strict mode).
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from typing import Any

_MARKER = re.compile(r"<!-- settings: ([\w.]+):(\w+) -->")
_ASSIGNMENT = re.compile(r"^    ([A-Z][A-Z0-9_]*)\s*(?::[^=]+)?=")
#: flask-smorest's own OpenAPI plumbing: set by the template, never by an operator.
HIDDEN = frozenset(
    {"OPENAPI_VERSION", "OPENAPI_URL_PREFIX", "OPENAPI_JSON_PATH", "OPENAPI_SWAGGER_UI_PATH"}
)


def descriptions(cls: type) -> dict[str, str]:
    """Each setting the class declares itself, with the ``#:`` comment lines above it."""
    found: dict[str, str] = {}
    comment: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            comment.append(stripped[2:].strip())
            continue
        assigned = _ASSIGNMENT.match(line)
        if assigned:
            found[assigned.group(1)] = " ".join(comment)
        if not stripped.startswith("#"):
            comment = []
    return {name: text for name, text in found.items() if name not in HIDDEN}


def _default(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    return f"`{json.dumps(value)}`"


def table(cls: type) -> str:
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for name, text in descriptions(cls).items():
        if not text:
            raise ValueError(f"{cls.__name__}.{name} has no #: comment to document it")
        cell = text.replace("|", "\\|")
        rows.append(f"| `{name}` | {_default(getattr(cls, name))} | {cell} |")
    return "\n".join(rows)


def _render(match: re.Match[str]) -> str:
    module, name = match.groups()
    return table(getattr(importlib.import_module(module), name))


def on_page_markdown(markdown: str, **_: Any) -> str:
    return _MARKER.sub(_render, markdown)
