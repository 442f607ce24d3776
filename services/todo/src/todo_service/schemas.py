"""Marshmallow schemas of the todo API: what clients may send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from factory_core import DocumentSchema, NumberedPageArgsSchema, milliseconds

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


def _to_millisecond_utc(value: datetime | None) -> datetime | None:
    # MongoDB stores milliseconds; truncating here keeps responses equal to what is stored.
    return None if value is None else milliseconds(value)


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


def _due(**kwargs: Any) -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(
        format="iso",
        allow_none=True,
        metadata={"description": "ISO 8601 with a timezone; stored in UTC, in milliseconds."},
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


def _tags(**kwargs: Any) -> ma.fields.List[str]:
    return ma.fields.List(
        _tag(),
        validate=[validate.Length(max=20), _unique],
        metadata={
            "description": "At most 20 unique tags of 1 to 32 characters; stored trimmed and "
            "in lower case (tags that differ only in case or surrounding spaces are one, and "
            "blank ones are dropped).",
            "uniqueItems": True,
        },
        **kwargs,
    )


class _TodoInput(_Strict):
    """Shared by the write schemas; server-owned fields are unknown here, hence a 422."""

    @ma.post_load
    def normalize(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "due" in data:
            data["due"] = _to_millisecond_utc(data["due"])
        if "tags" in data:
            data["tags"] = normalised_tags(data["tags"])
        return data


class TodoCreateSchema(_TodoInput):
    title = _title(required=True)
    notes = _notes(load_default="")
    done = StrictBoolean(load_default=False)
    due = _due(load_default=None)
    priority = _priority(load_default="normal")
    tags = _tags(load_default=list)


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
        required=True, metadata={"description": "Increases on every change; see ETag."}
    )


class TodoQueryArgsSchema(NumberedPageArgsSchema):
    done = ma.fields.Boolean()
    tag = _tag(metadata={"description": "Todos with this tag (case and surrounding spaces aside)."})
    priority = _priority()
    due_before = ma.fields.AwareDateTime(
        format="iso", metadata={"description": "Todos due strictly before this time."}
    )
    due_after = ma.fields.AwareDateTime(
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
