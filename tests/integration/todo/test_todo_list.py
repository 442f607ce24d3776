"""GET /todos: the caller's todos only, paginated (X-Pagination, Link), filtered, sorted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from tests.integration.todo.conftest import Caller
from tests.support.commands import next_link


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
    assert response.headers["Link"].startswith('</todos?page_size=1>; rel="first"')
    assert "</todos?page_size=1&after=" in response.headers["Link"]


def test_links_keep_the_prefix_the_service_is_mounted_under(alice: Caller, todo_app: Flask) -> None:
    # Mounted at /api by a proxy (SCRIPT_NAME): every link under it, the bare first page too.
    _seed(todo_app, alice, 21)
    mounted = "http://localhost/api"
    first = alice.get("/todos", base_url=mounted)
    assert first.status_code == 200
    assert first.headers["Link"].startswith('</api/todos>; rel="first", </api/todos?after=')
    after = first.headers["Link"].split("</api", 2)[2].split(">")[0]
    second = alice.get(after, base_url=mounted)
    assert _titles(second) == ["todo 20"]
    assert second.headers["Link"] == '</api/todos>; rel="first"'


def test_default_page_size_is_20(alice: Caller, todo_app: Flask) -> None:
    _seed(todo_app, alice, 21)
    response = alice.get("/todos")
    assert len(_titles(response)) == 20
    assert json.loads(response.headers["X-Pagination"])["total_pages"] == 2


def _walk(caller: Caller, path: str) -> list[str]:
    """Every title of the list at ``path``, following rel="next" to its end."""
    titles: list[str] = []
    next_path: str | None = path
    while next_path is not None:
        response = caller.get(next_path)
        titles += _titles(response)
        assert "page=" not in response.headers.get("Link", "")
        next_path = next_link(response)
    return titles


@pytest.mark.parametrize(
    "sort",
    ["created_at", "-created_at", "due", "-due", "priority", "-priority", "title", "-title"],
)
def test_cursor_pages_walk_every_sort_without_gaps_or_repeats(alice: Caller, sort: str) -> None:
    # Ties on every sort key (same priority, same due, null dues, titles equal but for case):
    # only (key, _id) cursors walk them exactly.
    dues = [None, "2031-01-01T00:00:00+00:00", None, "2030-01-01T00:00:00+00:00"]
    for i in range(11):
        alice.create(
            title=["apple", "Apple", "éclair", "zoo"][i % 4] + f" {i // 4}",
            priority=["low", "high", "normal"][i % 3],
            due=dues[i % 4],
        )
    whole = _titles(alice.get(f"/todos?sort={sort}&page_size=100"))
    assert len(whole) == 11
    for size in (1, 3, 4):
        assert _walk(alice, f"/todos?sort={sort}&page_size={size}") == whole


def test_cursor_pages_with_filters_and_totals(alice: Caller) -> None:
    for i in range(5):
        alice.create(title=f"todo {i:02d}", done=i % 2 == 0)
    first = alice.get("/todos?page_size=2")
    assert _titles(first) == ["todo 00", "todo 01"]
    # The unfiltered list's total is the owner's counter: O(1), so it is sent.
    assert json.loads(first.headers["X-Pagination"]) == {
        "total": 5,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 1,
        "next_page": 2,
    }
    second = alice.get(next_link(first))
    assert json.loads(second.headers["X-Pagination"])["page"] == 2
    assert second.headers["Link"].startswith('</todos?page_size=2>; rel="first", ')
    # A filtered list would need a count over the match (O(n)): no total.
    done = alice.get("/todos?done=true&page_size=2")
    assert _titles(done) == ["todo 00", "todo 02"]
    assert "X-Pagination" not in done.headers
    assert _walk(alice, "/todos?done=true&page_size=2") == ["todo 00", "todo 02", "todo 04"]


def test_a_cursor_is_refused_for_another_list_sort_filter_or_user(
    alice: Caller, bob: Caller, todo_app: Flask
) -> None:
    for i in range(3):
        alice.create(title=f"todo {i}", done=False)
        bob.create(title=f"bob {i}")
    next_path = next_link(alice.get("/todos?done=false&page_size=1"))
    assert next_path is not None
    cursor = next_path.split("after=", 1)[1]
    assert alice.get(next_path).status_code == 200
    refused = {
        "another filter": alice.get(f"/todos?done=true&page_size=1&after={cursor}"),
        "no filter": alice.get(f"/todos?page_size=1&after={cursor}"),
        "another sort": alice.get(f"/todos?done=false&sort=-created_at&after={cursor}"),
        "another user": bob.get(f"/todos?done=false&page_size=1&after={cursor}"),
        "tampered": alice.get(f"/todos?done=false&after={cursor[:-2]}{cursor[-2:][::-1]}x"),
        "made up": alice.get("/todos?after=eyJ2IjoxfQ.abc.def"),
    }
    for case, response in refused.items():
        assert response.status_code == 400, case
        assert response.mimetype == "application/problem+json", case
        assert response.json is not None
        assert response.json["code"] == "invalid_cursor", case
    todo_app.config["CURSOR_MAX_AGE_SECONDS"] = -1
    expired = alice.get(next_path)
    assert expired.status_code == 400
    assert expired.json is not None
    assert expired.json["detail"] == "The cursor is not valid, or has expired."
    both = alice.get(f"/todos?page=2&after={cursor}")
    assert both.status_code == 422
    assert both.json is not None
    assert "after" in both.json["errors"]["query"]


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
