"""Pieces of the list query: literal text search, ids, schemas that refuse what they must."""

from __future__ import annotations

import re

import marshmallow as ma
import pytest

from factory_core import parse_object_id as parse_id
from todo_service.repositories import TodoFilter, TodoRepository
from todo_service.schemas import TodoCreateSchema, TodoQueryArgsSchema


@pytest.mark.parametrize("text", [".*", "a+b", "(x)|[y]", "^$", "\\d{2}", "a/b", "-?", "#1 ~&"])
def test_text_search_matches_only_the_text(text: str) -> None:
    query = TodoRepository._query("u1", TodoFilter(q=text))
    pattern = re.compile(query["$or"][0]["title"]["$regex"], re.IGNORECASE)
    assert pattern.search(f"before {text} after")
    assert not pattern.search("abc 12 xy")


def test_the_query_is_always_scoped_to_the_owner() -> None:
    query = TodoRepository._query("u1", TodoFilter(q="a.b", tag="t"))
    assert query == {
        "owner": "u1",
        "tags": "t",
        "$or": [
            {"title": {"$regex": "a\\.b", "$options": "i"}},
            {"notes": {"$regex": "a\\.b", "$options": "i"}},
        ],
    }


@pytest.mark.parametrize(
    "value", ["", "123", "6650f1c2e9b1e8a3d4c5b6a7z", "ABCDEFABCDEFABCDEFABCDEF", "a" * 12]
)
def test_only_canonical_object_ids_parse(value: str) -> None:
    assert parse_id(value) is None


def test_a_canonical_object_id_parses() -> None:
    assert str(parse_id("665f1c2e9b1e8a3d4c5b6a79")) == "665f1c2e9b1e8a3d4c5b6a79"


def test_unknown_fields_raise_everywhere() -> None:
    with pytest.raises(ma.ValidationError) as error:
        TodoCreateSchema().load({"title": "t", "owner": "someone"})
    assert error.value.messages == {"owner": ["Unknown field."]}
    with pytest.raises(ma.ValidationError):
        TodoQueryArgsSchema().load({"where": "1"})


def test_due_is_normalized_to_utc_milliseconds() -> None:
    loaded = TodoCreateSchema().load({"title": "t", "due": "2030-01-01T01:00:00.123456+01:00"})
    assert loaded["due"].isoformat() == "2030-01-01T00:00:00.123000+00:00"
