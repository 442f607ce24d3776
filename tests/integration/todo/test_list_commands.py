"""The commands each list sends (pymongo's command monitoring): the shape of their cost, untimed.

A page is a ``find`` with no ``skip``, a ``limit`` of page_size + 1 and a filter and sort that a
declared index serves (owner first, then the sort key and ``_id``, in one direction); the
unfiltered list's total is one counter document, and a filtered list counts nothing. Runs on
the dev database, and on MongoDB when MONGO_URI names one.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from tests.integration.todo.conftest import Caller
from tests.support.commands import command_recorder, next_link

from factory_core import mongo

SORTS = ["created_at", "-created_at", "due", "-due", "priority", "-priority", "title", "-title"]


@pytest.fixture
def indexes(todo_app: Flask) -> dict[str, dict[str, Any]]:
    with todo_app.app_context():
        return {index["name"]: index for index in mongo.collection("todos").list_indexes()}


def _served_by_index(command: dict[str, Any], indexes: dict[str, dict[str, Any]]) -> str | None:
    """The declared index whose keys are the command's owner equality and then its sort, in
    one direction or the other, with the same collation; None if there is none."""
    sort = list(command["sort"].items())
    for name, index in indexes.items():
        keys = list(index["key"].items())
        if keys[0] != ("owner", 1) or len(keys) != len(sort) + 1:
            continue
        fields_match = [k for k, _ in keys[1:]] == [k for k, _ in sort]
        directions = {int(d) * int(s) for (_, d), (_, s) in zip(keys[1:], sort, strict=True)}
        collation = index.get("collation", {}).get("locale")
        if (
            fields_match
            and len(directions) == 1
            and collation == command.get("collation", {}).get("locale")
        ):
            return name
    return None


def _owner_of(query: dict[str, Any]) -> Any:
    if "owner" in query:
        return query["owner"]
    return next(part["owner"] for part in query["$and"] if "owner" in part)


@pytest.mark.parametrize("sort", SORTS)
def test_every_page_is_an_index_range_with_a_limit_never_a_skip(
    alice: Caller, indexes: dict[str, dict[str, Any]], sort: str
) -> None:
    for i in range(7):
        alice.create(title=f"todo {i}", priority=["low", "high"][i % 2])
    recorder = command_recorder()
    with recorder:
        first = alice.get(f"/todos?sort={sort}&page_size=3")
    first_commands = recorder.commands
    next_path = next_link(first)
    assert next_path is not None
    with recorder:
        second = alice.get(next_path)
    assert [first.status_code, second.status_code] == [200, 200]
    for commands in (first_commands, recorder.commands):
        finds = [c for name, coll, c in commands if name == "find" and coll == "todos"]
        assert len(finds) == 1, commands
        find = finds[0]
        assert "skip" not in find
        assert find["limit"] == 4
        assert _owner_of(find["filter"]) == alice.sub
        assert _served_by_index(find, indexes) is not None, (find, indexes)
        # The total of the unfiltered list: one counter document, never a count of todos.
        assert not [c for name, coll, c in commands if name in ("count", "aggregate")]
        counters = [c for name, coll, c in commands if coll == "todo_counts"]
        assert len(counters) == 1
        assert counters[0]["filter"] == {"_id": alice.sub}
        assert counters[0]["limit"] == 1
    # The second page: the same owner and index range, past the first page's last key.
    second_find = recorder.named("find", "todos")[0]
    assert "$or" in second_find["filter"]["$and"][1]


def test_a_filtered_list_counts_nothing(alice: Caller, indexes: dict[str, dict[str, Any]]) -> None:
    alice.create(title="one", done=True)
    recorder = command_recorder()
    with recorder:
        alice.get("/todos?done=true&page_size=5")
    assert [(name, coll) for name, coll, _ in recorder.commands] == [("find", "todos")]
    find = recorder.commands[0][2]
    assert "skip" not in find
    assert find["limit"] == 6


def test_the_deprecated_page_number_still_skips_and_counts(
    alice: Caller,
) -> None:
    alice.create(title="one")
    recorder = command_recorder()
    with recorder:
        alice.get("/todos?page=2&page_size=5")
    find = recorder.named("find", "todos")[0]
    assert find["skip"] == 5
    assert find["limit"] == 5
    assert recorder.named("aggregate", "todos") or recorder.named("count", "todos")
