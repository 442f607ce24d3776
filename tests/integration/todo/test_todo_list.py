"""GET /todos: the caller's todos only, paginated (X-Pagination, Link), filtered, sorted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from tests.integration.todo.conftest import Caller


def _titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.json
    return [todo["title"] for todo in response.json]


def _seed(todo_app: Flask, caller: Caller, count: int) -> None:
    for i in range(count):
        caller.create(title=f"todo {i:02d}")


def test_pagination_headers_are_exact(alice: Caller, todo_app: Flask) -> None:
    _seed(todo_app, alice, 7)
    base = "/todos"  # relative references (RFC 8288 allows them): no Host header in them
    response = alice.get("/todos?page_size=3&page=2&done=false")
    assert _titles(response) == ["todo 03", "todo 04", "todo 05"]
    assert json.loads(response.headers["X-Pagination"]) == {
        "total": 7,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    assert response.headers["Link"] == (
        f'<{base}?page_size=3&done=false&page=1>; rel="first", '
        f'<{base}?page_size=3&done=false&page=1>; rel="prev", '
        f'<{base}?page_size=3&done=false&page=3>; rel="next", '
        f'<{base}?page_size=3&done=false&page=3>; rel="last"'
    )
    last = alice.get("/todos?page_size=3&page=3")
    assert _titles(last) == ["todo 06"]
    assert json.loads(last.headers["X-Pagination"]) == {
        "total": 7,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 3,
        "previous_page": 2,
    }
    assert last.headers["Link"] == (
        f'<{base}?page_size=3&page=1>; rel="first", '
        f'<{base}?page_size=3&page=2>; rel="prev", '
        f'<{base}?page_size=3&page=3>; rel="last"'
    )


def test_links_never_carry_a_host_the_client_sent(alice: Caller, todo_app: Flask) -> None:
    _seed(todo_app, alice, 3)
    response = alice.get("/todos?page_size=1", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "evil.example" not in response.headers["Link"]
    assert response.headers["Link"].startswith('</todos?page_size=1&page=1>; rel="first"')


def test_default_page_size_is_20(alice: Caller, todo_app: Flask) -> None:
    _seed(todo_app, alice, 21)
    response = alice.get("/todos")
    assert len(_titles(response)) == 20
    assert json.loads(response.headers["X-Pagination"])["total_pages"] == 2


def test_beyond_the_last_page_and_no_todos(alice: Caller, todo_app: Flask) -> None:
    empty = alice.get("/todos")
    assert _titles(empty) == []
    assert json.loads(empty.headers["X-Pagination"]) == {"total": 0, "total_pages": 0}
    assert "Link" not in empty.headers
    _seed(todo_app, alice, 2)
    beyond = alice.get("/todos?page=5")
    assert _titles(beyond) == []
    assert json.loads(beyond.headers["X-Pagination"]) == {
        "total": 2,
        "total_pages": 1,
        "first_page": 1,
        "last_page": 1,
    }


@pytest.mark.parametrize(
    "query",
    [
        "page_size=101",
        "page_size=0",
        "page=0",
        "page=-1",
        "page=abc",
        "page=100001",
        "sort=owner",
        "sort=$where",
        "sort=notes",
        "sort=--title",
        "sort=title,-due",
        "unknown=1",
        "done=maybe",
        "priority=urgent",
        "due_before=2030-01-01T00:00:00",
        "tag=" + "x" * 33,
        "q=",
    ],
)
def test_invalid_query_parameters_are_422(alice: Caller, query: str) -> None:
    response = alice.get(f"/todos?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert query.split("=", maxsplit=1)[0] in response.json["errors"]["query"]


def test_only_the_callers_todos_are_listed(alice: Caller, bob: Caller) -> None:
    alice.create(title="alice's")
    bob.create(title="bob's")
    assert _titles(alice.get("/todos")) == ["alice's"]
    assert _titles(bob.get("/todos")) == ["bob's"]
    assert json.loads(bob.get("/todos").headers["X-Pagination"])["total"] == 1


def test_sorts(alice: Caller) -> None:
    alice.create(title="banana", priority="low", due="2030-01-03T00:00:00Z")
    alice.create(title="Apple", priority="high", due="2030-01-01T00:00:00Z")
    alice.create(title="cherry", priority="normal", due="2030-01-02T00:00:00Z")
    assert _titles(alice.get("/todos")) == ["banana", "Apple", "cherry"]
    assert _titles(alice.get("/todos?sort=-created_at")) == ["cherry", "Apple", "banana"]
    # Case-insensitive order (a collation).
    assert _titles(alice.get("/todos?sort=title")) == ["Apple", "banana", "cherry"]
    assert _titles(alice.get("/todos?sort=-title")) == ["cherry", "banana", "Apple"]
    # By rank, not alphabetically.
    assert _titles(alice.get("/todos?sort=priority")) == ["banana", "cherry", "Apple"]
    assert _titles(alice.get("/todos?sort=-priority")) == ["Apple", "cherry", "banana"]
    assert _titles(alice.get("/todos?sort=due")) == ["Apple", "cherry", "banana"]
    assert _titles(alice.get("/todos?sort=-due")) == ["banana", "cherry", "Apple"]


def test_titles_sort_as_people_read_them(alice: Caller) -> None:
    for title in ("zoo", "Éclair", "apple", "eclair", "Banana"):
        alice.create(title=title)
    titles = _titles(alice.get("/todos?sort=title"))
    # Accents and case come second: "Éclair" sits with "eclair", not after "zoo".
    assert titles[:2] == ["apple", "Banana"]
    assert sorted(titles[2:4]) == ["eclair", "Éclair"]
    assert titles[4] == "zoo"
    page = alice.get("/todos?sort=title&page=2&page_size=2")
    assert len(_titles(page)) == 2
    assert json.loads(page.headers["X-Pagination"])["total"] == 5


def test_filters(alice: Caller) -> None:
    alice.create(title="a", done=True, tags=["home"], priority="high", due="2030-01-01T00:00:00Z")
    alice.create(title="b", tags=["work", "home"], due="2030-02-01T00:00:00Z")
    alice.create(title="c", tags=["work"], priority="low")
    assert _titles(alice.get("/todos?done=true")) == ["a"]
    assert _titles(alice.get("/todos?done=false")) == ["b", "c"]
    assert _titles(alice.get("/todos?tag=home")) == ["a", "b"]
    assert _titles(alice.get("/todos?tag=work&priority=normal")) == ["b"]
    assert _titles(alice.get("/todos?priority=low")) == ["c"]
    assert _titles(alice.get("/todos?due_before=2030-01-15T00:00:00Z")) == ["a"]
    assert _titles(alice.get("/todos?due_after=2030-01-15T00:00:00Z")) == ["b"]
    assert _titles(
        alice.get("/todos?due_after=2029-12-31T00:00:00Z&due_before=2030-03-01T00:00:00Z")
    ) == ["a", "b"]


def test_q_is_a_case_insensitive_substring_of_title_or_notes(alice: Caller) -> None:
    alice.create(title="Buy MILK")
    alice.create(title="other", notes="remember the milkman")
    alice.create(title="unrelated")
    assert _titles(alice.get("/todos?q=milk")) == ["Buy MILK", "other"]
    assert _titles(alice.get("/todos?q=MILKMAN")) == ["other"]


@pytest.mark.parametrize(
    "needle", [".*", "a+b", "(x)", "[ab]", "^start", "end$", "a|b", "\\d", "{2}", "?"]
)
def test_q_matches_regex_metacharacters_literally(alice: Caller, needle: str) -> None:
    alice.create(title=f"has {needle} inside")
    alice.create(title="ab aab start end 12 x b d")
    response = alice.get("/todos", query_string={"q": needle})
    assert _titles(response) == [f"has {needle} inside"]


def test_q_cannot_inject_operators(alice: Caller) -> None:
    alice.create(title="secret")
    for value in ('{"$where": "1"}', '{"$regex": ".*"}', "$where"):
        assert _titles(alice.get("/todos", query_string={"q": value})) == []
