"""DocumentSchema: documents dumped by key, as marshmallow's own lookup would dump them."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from bson import ObjectId

from factory_core import DocumentSchema


class _Fields:
    id = ma.fields.String(attribute="_id")
    title = ma.fields.String()
    due = ma.fields.AwareDateTime(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    flagged = ma.fields.Function(lambda document: "flag" in document)


class ByKey(_Fields, DocumentSchema):
    pass


class Stock(_Fields, ma.Schema):
    pass


def test_a_document_dumps_as_with_marshmallows_own_lookup() -> None:
    documents = [
        {"_id": ObjectId(), "title": "t", "due": datetime.now(UTC), "tags": ["a"], "flag": 1},
        {"_id": ObjectId(), "title": "t", "due": None, "tags": []},
        {"_id": ObjectId()},  # keys left out stay out
    ]
    dumped = ByKey(many=True).dump(documents)
    assert dumped == Stock(many=True).dump(documents)
    assert dumped[2] == {"id": str(documents[2]["_id"]), "flagged": False}


def test_dotted_names_and_objects_are_looked_up_as_marshmallow_does() -> None:
    class Dotted(DocumentSchema):
        city = ma.fields.String(attribute="address.city")

    assert Dotted().dump({"address": {"city": "Paris"}}) == {"city": "Paris"}

    class Item:
        title = "from an attribute"

    assert ByKey(only=["title"]).dump(Item()) == {"title": "from an attribute"}


def test_a_missing_key_named_like_a_dict_method_stays_out() -> None:
    # marshmallow's own lookup falls back to attributes: a document without "items" would
    # dump dict.items, the bound method, as its value.
    class Listing(DocumentSchema):
        items = ma.fields.Raw()

    assert Listing().dump({}) == {}
    assert Listing().dump({"items": [1]}) == {"items": [1]}
