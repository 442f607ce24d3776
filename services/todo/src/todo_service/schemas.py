"""Marshmallow schemas of the todo API: what clients may send and what they get back."""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from factory_core import Document, DocumentSchema, Instant, NumberedPageArgsSchema
from todo_service.conditional import etag_for

PRIORITIES = ("low", "normal", "high")
#: Sort keys clients may ask for; a leading "-" sorts descending. Nothing else reaches the query.
SORTS = ("created_at", "due", "priority", "title")
SORT_CHOICES = tuple(prefix + key for key in SORTS for prefix in ("", "-"))


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


def _unique(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError("Tags must be unique.")


class StrictBoolean(ma.fields.Boolean):
    """JSON true/false only: "yes", 1 or "false" in a body are type errors, not booleans."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        # Checked by type: 1 == True, so a truthy set alone would still accept 1 and 0.
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


def _title(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[validate.Length(min=1, max=200), _not_blank],
        metadata={"example": "Water the plants"},
        **kwargs,
    )


def _notes(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(max=10_000), **kwargs)


def _due(left_out: str = "", **kwargs: Any) -> Instant:
    description = "ISO 8601 with a timezone; stored in UTC, in milliseconds."
    return Instant(
        format="iso",
        allow_none=True,
        metadata={"description": f"{description} {left_out}".strip()},
        **kwargs,
    )


def _priority(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=validate.OneOf(PRIORITIES), **kwargs)


def normalised_tags(tags: list[str]) -> list[str]:
    """Tags as stored and matched: trimmed, in lower case, each once, in their order, blank
    ones dropped ("Work " and "work" are one tag). migrations/0002_tags_normalised.py brought
    older todos in line."""
    return list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))


def _tag(**kwargs: Any) -> ma.fields.String:
    # The rules apply to the tag as sent (the spec's); normalised_tags after them.
    return ma.fields.String(validate=validate.Length(min=1, max=32), **kwargs)


def _tags(left_out: str = "", **kwargs: Any) -> ma.fields.List[str]:
    description = (
        "At most 20 unique tags of 1 to 32 characters; stored trimmed and in lower case (tags "
        "that differ only in case or surrounding spaces are one, and blank ones are dropped)."
    )
    return ma.fields.List(
        _tag(),
        validate=[validate.Length(max=20), _unique],
        metadata={"description": f"{description} {left_out}".strip(), "uniqueItems": True},
        **kwargs,
    )


class _TodoInput(_Strict):
    """Shared by the write schemas; server-owned fields are unknown here, hence a 422."""

    @ma.post_load
    def normalize(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "tags" in data:
            data["tags"] = normalised_tags(data["tags"])
        return data


#: What POST (and PUT) give a field left out.
CREATE_DEFAULTS: dict[str, Any] = {
    "notes": "",
    "done": False,
    "due": None,
    "priority": "normal",
    "tags": [],
}


def _left_out(default: Any) -> str:
    return f"Left out: {json.dumps(default)}."


class TodoCreateSchema(_TodoInput):
    """POST: a todo; a field left out gets its default (said in its description, not as a
    `default`, which generators read as "always present" and make required)."""

    title = _title(required=True)
    notes = _notes(metadata={"description": _left_out(CREATE_DEFAULTS["notes"])})
    done = StrictBoolean(metadata={"description": _left_out(CREATE_DEFAULTS["done"])})
    due = _due(left_out=_left_out(CREATE_DEFAULTS["due"]))
    priority = _priority(metadata={"description": _left_out(CREATE_DEFAULTS["priority"])})
    tags = _tags(left_out=_left_out(CREATE_DEFAULTS["tags"]))

    @ma.post_load
    def fill_defaults(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {**copy.deepcopy(CREATE_DEFAULTS), **data}


class TodoReplaceSchema(TodoCreateSchema):
    """PUT: the whole todo; a field left out is reset to its default."""


class TodoUpdateSchema(_TodoInput):
    """PATCH: only the fields sent change."""

    class Meta:
        json_schema: ClassVar[dict[str, Any]] = {"minProperties": 1}

    title = _title()
    notes = _notes()
    done = StrictBoolean()
    due = _due()
    priority = _priority()
    tags = _tags()

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_schema")


class TodoSchema(DocumentSchema):
    """A todo as clients see it (the owner is implied by the token and never shown)."""

    id = ma.fields.String(
        attribute="_id", required=True, metadata={"example": "665f1c2e9b1e8a3d4c5b6a79"}
    )
    title = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    done = ma.fields.Boolean(required=True)
    due = ma.fields.AwareDateTime(format="iso", allow_none=True, required=True)
    priority = ma.fields.String(required=True, metadata={"enum": list(PRIORITIES)})
    tags = ma.fields.List(ma.fields.String(), required=True)
    created_at = ma.fields.AwareDateTime(format="iso", required=True)
    updated_at = ma.fields.AwareDateTime(format="iso", required=True)
    version = ma.fields.Integer(
        required=True,
        metadata={"description": "Starts at 1 and increases by one on every change."},
    )
    etag = ma.fields.Method(
        "strong_etag",
        required=True,
        metadata={
            "type": "string",
            "description": 'The todo\'s strong ETag, as in the ETag header: `"<id>.<version>"`, '
            "quotes included. Send it as If-Match to change or delete exactly this version "
            "(a list item's too, with no GET first).",
            "example": '"665f1c2e9b1e8a3d4c5b6a79.3"',
        },
    )

    def strong_etag(self, todo: Document) -> str:
        return etag_for(todo)


class TodoQueryArgsSchema(NumberedPageArgsSchema):
    done = ma.fields.Boolean()
    tag = _tag(metadata={"description": "Todos with this tag (case and surrounding spaces aside)."})
    priority = _priority()
    due_before = Instant(
        format="iso", metadata={"description": "Todos due strictly before this time."}
    )
    due_after = Instant(
        format="iso", metadata={"description": "Todos due strictly after this time."}
    )
    q = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive text to find in the title or notes."},
    )
    sort = ma.fields.String(
        load_default="created_at",
        validate=validate.OneOf(SORT_CHOICES),
        metadata={"description": "A sort key; prefix with - for descending order."},
    )

    @ma.post_load
    def normalise_tag(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "tag" in data:
            data["tag"] = data["tag"].strip().lower()
        return data
