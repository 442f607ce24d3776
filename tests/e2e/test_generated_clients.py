"""End to end through the generated Python clients (clients/python/, `make clients`), unpatched.

A user's whole session, as an application built on the published specs would run it: every
request is made by auth_client and todo_client against both services under gunicorn; what a
client returns besides the body (ETag, Link, X-Pagination, Idempotent-Replayed) is read from its
documented ``sync_detailed`` Response. The TypeScript clients' example
(clients/typescript/example.ts), compiled by tsc, runs the same flow under the lock's Node.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from auth_client import AuthenticatedClient as AuthAuthenticatedClient
from auth_client import Client as AuthClient
from auth_client.api.accounts import login, logout, refresh_tokens, register_user
from auth_client.api.me import get_me
from auth_client.models import Login, Register, TokenPair, User
from auth_client.models import Problem as AuthProblem
from pymongo import MongoClient
from tests.support.accounts import new_password, new_username
from tests.support.gunicorn import GunicornServer
from tests.support.services import auth_and_todo
from tests.support.waiting import eventually
from todo_client import AuthenticatedClient as TodoClient
from todo_client.api.todos import create_todo, delete_todo, get_todo, list_todos, update_todo
from todo_client.models import PaginationMetadata, Todo, TodoCreate, TodoUpdate
from todo_client.models import Problem as TodoProblem
from todo_client.types import UNSET, Response, Unset
from tools.clients.generate import ROOT

pytestmark = pytest.mark.gunicorn

TIMEOUT = httpx.Timeout(10.0)

#: todo polls the revocation feed every second; a logout must reach it well within this.
REVOCATION_BOUND_SECONDS = 10.0


@dataclass
class Stack:
    auth: GunicornServer
    todo: GunicornServer

    def todo_client(self, token: str) -> TodoClient:
        return TodoClient(base_url=self.todo.url, token=token, timeout=TIMEOUT)

    def auth_client(self, token: str) -> AuthAuthenticatedClient:
        return AuthAuthenticatedClient(base_url=self.auth.url, token=token, timeout=TIMEOUT)


@pytest.fixture
def stack(
    mongo_uri: str, db_name: str, mongo_client: MongoClient[dict[str, object]], tmp_path: Path
) -> Iterator[Stack]:
    """Both services in production configuration, each on a database of its own."""
    names = f"{db_name}_auth", f"{db_name}_todo"
    with auth_and_todo(mongo_client, mongo_uri=mongo_uri, directory=tmp_path, db_names=names) as (
        auth,
        todo,
    ):
        yield Stack(auth, todo)


def test_a_user_s_whole_session_through_the_generated_clients(stack: Stack) -> None:
    tokens = registers_and_logs_in(stack)
    todos = stack.todo_client(tokens.access_token)
    first = creates_a_todo_once_per_idempotency_key(todos)
    second = created(todos, "Buy bread")
    lists_page_by_page(todos, [first, second])
    first = reads_it_again_only_when_changed(todos, first)
    first = updates_it_with_if_match(todos, first)
    deletes_it(todos, first)
    refreshed = refreshes_the_session(stack, tokens)
    logs_out_and_the_tokens_are_refused(stack, refreshed, tokens.access_token)


def registers_and_logs_in(stack: Stack) -> TokenPair:
    username, password = new_username("client"), new_password()
    anonymous = AuthClient(base_url=stack.auth.url, timeout=TIMEOUT)
    registered = register_user.sync_detailed(
        client=anonymous, body=Register(username=username, password=password)
    )
    assert registered.status_code == HTTPStatus.CREATED, registered.content
    assert isinstance(registered.parsed, User)
    assert registered.parsed.username == username

    wrong = login.sync_detailed(client=anonymous, body=Login(username=username, password="no"))
    assert wrong.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(wrong.parsed, AuthProblem)
    assert wrong.parsed.status == 401

    logged_in = login.sync_detailed(
        client=anonymous, body=Login(username=username, password=password)
    )
    assert logged_in.status_code == HTTPStatus.OK, logged_in.content
    assert logged_in.headers["Cache-Control"].startswith("no-store")
    tokens = logged_in.parsed
    assert isinstance(tokens, TokenPair)
    assert tokens.token_type.lower() == "bearer"
    me = get_me.sync(client=stack.auth_client(tokens.access_token))
    assert isinstance(me, User)
    assert me.username == username
    assert me.id == registered.parsed.id
    return tokens


def created(todos: TodoClient, title: str) -> Todo:
    response = create_todo.sync_detailed(client=todos, body=TodoCreate(title=title))
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert isinstance(response.parsed, Todo)
    return response.parsed


def creates_a_todo_once_per_idempotency_key(todos: TodoClient) -> Todo:
    key = str(uuid.uuid4())
    first = create_todo.sync_detailed(
        client=todos, body=TodoCreate(title="Water the plants", tags=["home"]), idempotency_key=key
    )
    assert first.status_code == HTTPStatus.CREATED, first.content
    todo = first.parsed
    assert isinstance(todo, Todo)
    assert (todo.title, todo.done, todo.tags) == ("Water the plants", False, ["home"])
    assert first.headers["ETag"] == todo.etag
    assert first.headers["Location"].endswith(f"/todos/{todo.id}")
    assert "Idempotent-Replayed" not in first.headers

    replay = create_todo.sync_detailed(
        client=todos, body=TodoCreate(title="Water the plants", tags=["home"]), idempotency_key=key
    )
    assert replay.status_code == HTTPStatus.CREATED, replay.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.parsed == todo

    other_body = create_todo.sync_detailed(
        client=todos, body=TodoCreate(title="Something else"), idempotency_key=key
    )
    assert other_body.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(other_body.parsed, TodoProblem)
    assert other_body.parsed.status == 422
    return todo


def next_cursor(response: Response[TodoProblem | list[Todo]]) -> str | Unset:
    """The `after` of the Link header's rel="next", if any (RFC 8288)."""
    for link in response.headers.get("Link", "").split(","):
        target, _, parameters = link.partition(";")
        if 'rel="next"' in parameters:
            (after,) = parse_qs(urlsplit(target.strip(" <>")).query)["after"]
            return after
    return UNSET


def lists_page_by_page(todos: TodoClient, expected: list[Todo]) -> None:
    seen: list[Todo] = []
    after: str | Unset = UNSET
    for _ in range(len(expected) + 1):
        page = list_todos.sync_detailed(client=todos, page_size=1, after=after)
        assert page.status_code == HTTPStatus.OK, page.content
        assert isinstance(page.parsed, list)
        seen.extend(page.parsed)
        metadata = PaginationMetadata.from_dict(json.loads(page.headers["X-Pagination"]))
        assert isinstance(metadata.total, int)
        assert metadata.total == len(expected)
        after = next_cursor(page)
        if isinstance(after, Unset):
            break
    assert [todo.id for todo in seen] == [todo.id for todo in expected]
    assert seen == expected


def reads_it_again_only_when_changed(todos: TodoClient, todo: Todo) -> Todo:
    read = get_todo.sync_detailed(todo.id, client=todos)
    assert read.status_code == HTTPStatus.OK
    assert read.parsed == todo
    assert read.headers["ETag"] == todo.etag
    unchanged = get_todo.sync_detailed(todo.id, client=todos, if_none_match=todo.etag)
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED
    assert unchanged.content == b""
    assert unchanged.parsed is None
    return todo


def updates_it_with_if_match(todos: TodoClient, todo: Todo) -> Todo:
    updated = update_todo.sync_detailed(
        todo.id, client=todos, body=TodoUpdate(done=True), if_match=todo.etag
    )
    assert updated.status_code == HTTPStatus.OK, updated.content
    now = updated.parsed
    assert isinstance(now, Todo)
    assert now.done is True
    assert now.version == todo.version + 1
    assert now.etag != todo.etag
    assert updated.headers["ETag"] == now.etag

    stale = update_todo.sync_detailed(
        todo.id, client=todos, body=TodoUpdate(title="late"), if_match=todo.etag
    )
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert isinstance(stale.parsed, TodoProblem)
    assert stale.parsed.status == 412
    assert get_todo.sync(todo.id, client=todos) == now
    return now


def deletes_it(todos: TodoClient, todo: Todo) -> None:
    deleted = delete_todo.sync_detailed(todo.id, client=todos, if_match=todo.etag)
    assert deleted.status_code == HTTPStatus.NO_CONTENT, deleted.content
    gone = get_todo.sync_detailed(todo.id, client=todos)
    assert gone.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(gone.parsed, TodoProblem)
    assert gone.parsed.status == 404
    left = list_todos.sync(client=todos)
    assert isinstance(left, list)
    assert [each.title for each in left] == ["Buy bread"]


def refreshes_the_session(stack: Stack, tokens: TokenPair) -> TokenPair:
    """The refreshToken scheme: the refresh token is the client's bearer token here."""
    with_access_token = refresh_tokens.sync_detailed(client=stack.auth_client(tokens.access_token))
    assert with_access_token.status_code == HTTPStatus.UNAUTHORIZED
    refreshed = refresh_tokens.sync_detailed(client=stack.auth_client(tokens.refresh_token))
    assert refreshed.status_code == HTTPStatus.OK, refreshed.content
    pair = refreshed.parsed
    assert isinstance(pair, TokenPair)
    assert (pair.access_token, pair.refresh_token) != (tokens.access_token, tokens.refresh_token)
    assert isinstance(list_todos.sync(client=stack.todo_client(pair.access_token)), list)
    return pair


def logs_out_and_the_tokens_are_refused(
    stack: Stack, tokens: TokenPair, earlier_access_token: str
) -> None:
    out = logout.sync_detailed(client=stack.auth_client(tokens.access_token))
    assert out.status_code == HTTPStatus.NO_CONTENT, out.content
    for token in (tokens.access_token, earlier_access_token):
        at_auth = get_me.sync_detailed(client=stack.auth_client(token))
        assert at_auth.status_code == HTTPStatus.UNAUTHORIZED
        assert isinstance(at_auth.parsed, AuthProblem)
        assert at_auth.parsed.status == 401
        assert at_auth.headers["WWW-Authenticate"].startswith("Bearer")
        at_todo = eventually(
            partial(list_todos.sync_detailed, client=stack.todo_client(token)),
            lambda response: response.status_code == HTTPStatus.UNAUTHORIZED,
            within=REVOCATION_BOUND_SECONDS,
        )
        assert isinstance(at_todo.parsed, TodoProblem)
        assert at_todo.parsed.code == "token_revoked"
    spent = refresh_tokens.sync_detailed(client=stack.auth_client(tokens.refresh_token))
    assert spent.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(spent.parsed, AuthProblem)


def test_the_typescript_example_runs_its_session_against_both_services(
    stack: Stack, tmp_path: Path
) -> None:
    compiled = tmp_path / "compiled"
    tools = ROOT / "tools" / "clients" / "run"
    tsc: list[str | Path] = [
        tools,
        "tsc",
        "-p",
        "clients/typescript/tsconfig.json",
        "--noEmit",
        "false",
    ]
    built = subprocess.run(
        [*tsc, "--outDir", compiled], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr
    # Compiled as CommonJS (no package.json says otherwise), so that require() can load it.
    script = (
        "require(process.argv[1]).wholeSession(process.argv[2], process.argv[3])"
        ".then(() => console.log('whole session: ok'))"
        ".catch((error) => { console.error(error); process.exit(1); });"
    )
    ran = subprocess.run(
        [tools, "node", "-e", script, compiled / "example.js", stack.auth.url, stack.todo.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout == "whole session: ok\n"
