"""The todo service under a real gunicorn with two workers: races decided by the database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from bson import ObjectId
from pymongo import MongoClient
from tests.support.devdb import free_port
from tests.support.gunicorn import GunicornServer
from tests.support.tokens import IssuerServer, TokenIssuer

pytestmark = pytest.mark.gunicorn

PARALLEL = 8


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture(scope="module")
def todo_server(
    mongo_uri: str, issuer: TokenIssuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GunicornServer, str]]:
    db_name = f"test_{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("gunicorn") / "todo.log"
    with IssuerServer(issuer) as auth:
        env = {
            "TODO_ENV": "testing",
            "TODO_MONGO_URI": mongo_uri,
            "TODO_MONGO_DB_NAME": db_name,
            "TODO_JWKS_URL": auth.jwks_url,
            "TODO_REVOCATION_FEED_URL": auth.feed_url,
            "TODO_LOG_LEVEL": "WARNING",
        }
        server = GunicornServer("todo_service.wsgi:app", env, workers=2, log_path=log)
        with server:
            yield server, db_name
    with MongoClient(mongo_uri) as client:
        client.drop_database(db_name)


def _race(count: int, request: Callable[[], requests.Response]) -> list[requests.Response]:
    """Fire ``count`` requests at once (a barrier releases them together)."""
    barrier = threading.Barrier(count)

    def fire() -> requests.Response:
        barrier.wait()
        return request()

    with ThreadPoolExecutor(count) as pool:
        return [future.result() for future in [pool.submit(fire) for _ in range(count)]]


def _auth(issuer: TokenIssuer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.access_token(str(ObjectId()))}"}


def test_both_workers_answer(todo_server: tuple[GunicornServer, str]) -> None:
    server, _ = todo_server
    assert len(server.worker_pids()) == 2


def test_a_chunked_body_past_the_limit_is_413_under_gunicorn(
    todo_server: tuple[GunicornServer, str], issuer: TokenIssuer
) -> None:
    # gunicorn de-chunks the body and marks the input terminated; past MAX_CONTENT_LENGTH
    # (64 KiB) the body is refused, not cut to a shorter valid one.
    server, _ = todo_server
    headers = {**_auth(issuer), "Content-Type": "application/json"}

    def chunked(*parts: bytes) -> requests.Response:
        return requests.post(f"{server.url}/todos", data=iter(parts), headers=headers, timeout=10)

    long = chunked(b'{"title": "one"}', b" " * 70_000, b"GARBAGE")
    assert long.status_code == 413, long.text
    assert long.json()["code"] == "content_too_large"
    short = chunked(b'{"title": ', b'"two"}')
    assert short.status_code == 201, short.text
    assert short.json()["title"] == "two"


def test_concurrent_updates_with_one_etag_exactly_one_wins(
    todo_server: tuple[GunicornServer, str], issuer: TokenIssuer
) -> None:
    server, _ = todo_server
    headers = _auth(issuer)
    created = requests.post(f"{server.url}/todos", json={"title": "t"}, headers=headers, timeout=5)
    assert created.status_code == 201
    url, etag = f"{server.url}{created.headers['Location']}", created.headers["ETag"]

    responses = _race(
        PARALLEL,
        lambda: requests.patch(
            url,
            json={"title": f"writer {uuid.uuid4().hex}"},
            headers={**headers, "If-Match": etag},
            timeout=10,
        ),
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (PARALLEL - 1)
    winner = next(response for response in responses if response.status_code == 200)
    current = requests.get(url, headers=headers, timeout=5)
    assert current.json() == winner.json()
    assert current.json()["version"] == 2


def test_concurrent_posts_with_one_key_create_one_todo(
    todo_server: tuple[GunicornServer, str], issuer: TokenIssuer, mongo_uri: str
) -> None:
    server, db_name = todo_server
    headers = {**_auth(issuer), "Idempotency-Key": uuid.uuid4().hex}
    responses = _race(
        PARALLEL,
        lambda: requests.post(
            f"{server.url}/todos", json={"title": "once"}, headers=headers, timeout=10
        ),
    )
    assert [response.status_code for response in responses] == [201] * PARALLEL
    assert len({response.content for response in responses}) == 1
    assert len({response.headers["Location"] for response in responses}) == 1
    listed = requests.get(f"{server.url}/todos", headers=headers, timeout=5).json()
    assert [todo["title"] for todo in listed] == ["once"]
    with MongoClient(mongo_uri) as client:
        assert client[db_name].todos.count_documents({"title": "once"}) == 1


def test_without_auth_the_service_starts_and_refuses_tokens_with_503(
    mongo_uri: str, issuer: TokenIssuer, tmp_path: Path
) -> None:
    """As `make run-todo` does with auth not running: alive and documented, not ready (it
    cannot verify a token), and tokens get 503."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {
        "TODO_ENV": "development",
        "TODO_MONGO_URI": mongo_uri,
        "TODO_MONGO_DB_NAME": f"test_{uuid.uuid4().hex[:12]}",
        "TODO_JWKS_URL": f"{nowhere}/.well-known/jwks.json",
        "TODO_REVOCATION_FEED_URL": f"{nowhere}/auth/revocations",
        "TODO_LOG_LEVEL": "WARNING",
    }
    with GunicornServer("todo_service.wsgi:app", env, log_path=tmp_path / "todo.log") as server:
        assert requests.get(f"{server.url}/livez", timeout=5).status_code == 200
        readyz = requests.get(f"{server.url}/readyz", timeout=5)
        assert readyz.status_code == 503
        assert readyz.json()["code"] == "service_unavailable"  # no keys from the issuer
        assert readyz.headers["Retry-After"] == "2"
        assert requests.get(f"{server.url}/docs", timeout=5).status_code == 200
        response = requests.get(f"{server.url}/todos", headers=_auth(issuer), timeout=10)
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "2"
        assert response.json()["status"] == 503


def test_a_worker_is_ready_before_its_first_request(
    mongo_uri: str, issuer: TokenIssuer, tmp_path: Path
) -> None:
    """Keys, revocations, the database and its indexes: fetched as the worker boots.

    No client pays for a worker's warm-up, not even the first after a recycle.
    """
    db_name = f"test_{uuid.uuid4().hex[:12]}"
    with IssuerServer(issuer) as auth:
        env = {
            "TODO_ENV": "testing",
            "TODO_MONGO_URI": mongo_uri,
            "TODO_MONGO_DB_NAME": db_name,
            "TODO_JWKS_URL": auth.jwks_url,
            "TODO_REVOCATION_FEED_URL": auth.feed_url,
            "TODO_EVENT_FEED_URL": "",
            "TODO_LOG_LEVEL": "WARNING",
        }
        log = tmp_path / "todo.log"
        with GunicornServer("todo_service.wsgi:app", env, workers=1, log_path=log):
            # Only /livez has been asked, which needs none of it.
            assert (auth.jwks_hits, auth.feed_hits) >= (1, 1)
            with MongoClient(mongo_uri) as client:
                indexes = client[db_name]["todos"].index_information()
                client.drop_database(db_name)
    assert "owner_created_at" in indexes, sorted(indexes)
