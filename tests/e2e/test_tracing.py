"""Tracing across the services: both under gunicorn, exporting OTLP/HTTP to a real receiver.

A client request at todo, todo's call to auth for its keys and auth's answer are one trace,
continued from the client's own ``traceparent``; the log lines carry its ids; and no span
holds a token or a password.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from tests.support.accounts import Account, registered
from tests.support.gunicorn import GunicornServer
from tests.support.otlp import OtlpReceiver, Span, new_traceparent
from tests.support.services import todo_then_auth
from tests.support.waiting import eventually

pytestmark = pytest.mark.gunicorn


@dataclass
class Traced:
    receiver: OtlpReceiver
    auth: GunicornServer
    todo: GunicornServer
    account: Account


def _tracing_env(receiver: OtlpReceiver) -> dict[str, str]:
    # The standard variables only; the service name defaults to each service's own.
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


@pytest.fixture
def traced(mongo_uri: str, db_name: str, tmp_path: Path) -> Iterator[Traced]:
    with (
        OtlpReceiver() as receiver,
        todo_then_auth(
            mongo_uri=mongo_uri,
            db_name=db_name,
            directory=tmp_path,
            environment=_tracing_env(receiver),
        ) as (auth, todo),
    ):
        yield Traced(receiver, auth, todo, registered(auth.url))


def _one(spans: list[Span], **match: str) -> Span:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert found, (match, spans)
    return found[0]


def _answered_after_a_key_fetch(trace_id: str):  # type: ignore[no-untyped-def]
    """Received: auth's answer for its keys, and todo's span of the request answered 200."""

    def received(spans: list[Span]) -> bool:
        mine = [s for s in spans if s.trace_id == trace_id]
        return any(s.service == "auth" and s.name.endswith("jwks.json") for s in mine) and any(
            s.service == "todo" and s.kind == "SERVER" and _status(s) == 200 for s in mine
        )

    return received


def _status(span: Span) -> object:
    return span.attributes.get("http.response.status_code")


def test_one_trace_follows_a_request_from_todo_to_auth_and_back(traced: Traced) -> None:
    traceparent, trace_id, client_span_id = new_traceparent()
    headers = {**traced.account.headers(), "traceparent": traceparent}
    # Until todo has read auth's revocation feed, it answers 503; every try is in the trace.
    answer = eventually(
        lambda: requests.get(f"{traced.todo.url}/todos", headers=headers, timeout=10),
        lambda r: r.status_code == 200,
        within=15,
    )
    assert answer.status_code == 200, answer.text

    spans = traced.receiver.wait_for(_answered_after_a_key_fetch(trace_id))
    mine = [s for s in spans if s.trace_id == trace_id]
    server = _one(mine, service="todo", kind="SERVER", parent_span_id=client_span_id)
    assert server.name == "GET /todos"
    # Each worker set up its own exporter after the fork: the spans come from a worker.
    assert server.resource["process.pid"] in traced.todo.worker_pids()
    todo_ids = {s.span_id for s in mine if s.service == "todo"}
    fetch = _one(mine, service="todo", kind="CLIENT", name="GET")
    assert fetch.parent_span_id in todo_ids
    assert str(fetch.attributes.get("url.full")).endswith("/.well-known/jwks.json")
    keys = _one(mine, service="auth", kind="SERVER", parent_span_id=fetch.span_id)
    assert keys.name == "GET /.well-known/jwks.json"
    # The database calls of the answered request, as client spans without their documents.
    answered = next(
        s for s in mine if s.service == "todo" and s.kind == "SERVER" and _status(s) == 200
    )
    database = [s for s in mine if s.attributes.get("db.system.name") == "mongodb"]
    assert any(s.parent_span_id == answered.span_id for s in database), database


def test_log_lines_carry_the_trace_and_span_ids(traced: Traced) -> None:
    traceparent, trace_id, client_span_id = new_traceparent()
    headers = {**traced.account.headers(), "traceparent": traceparent}
    eventually(
        lambda: requests.get(f"{traced.todo.url}/todos", headers=headers, timeout=10),
        lambda r: r.status_code == 200,
        within=15,
    )
    assert traced.todo.log_path is not None
    lines = [
        json.loads(line)
        for line in traced.todo.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    requests_logged = [
        line
        for line in lines
        if line.get("logger") == "factory_core.access" and line.get("route") == "/todos"
    ]
    assert requests_logged, lines[-5:]
    assert {line["trace_id"] for line in requests_logged} == {trace_id}
    assert all(line["request_id"] for line in requests_logged)  # X-Request-ID stays
    logged_spans = {line["span_id"] for line in requests_logged}
    # Each request's line names its own server span, a child of the caller's span.
    spans = traced.receiver.wait_for(
        lambda spans: logged_spans <= {s.span_id for s in spans if s.trace_id == trace_id}
    )
    for span in (s for s in spans if s.span_id in logged_spans):
        assert (span.service, span.kind, span.parent_span_id) == ("todo", "SERVER", client_span_id)


def test_no_span_holds_a_token_or_a_password(traced: Traced) -> None:
    account = traced.account
    refreshed = requests.post(
        f"{traced.auth.url}/auth/refresh",
        headers={"Authorization": f"Bearer {account.refresh_token}"},
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text
    link_token = "l1nk-t0ken-" + "x" * 32  # as a mailed link carries it
    followed = requests.get(
        f"{traced.auth.url}/auth/email/verify", params={"token": link_token}, timeout=10
    )
    assert followed.status_code == 400
    secrets_sent = [
        link_token,
        account.password,
        account.access_token,
        account.refresh_token,
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
    ]
    eventually(
        lambda: requests.get(f"{traced.todo.url}/todos", headers=account.headers(), timeout=10),
        lambda r: r.status_code == 200,
        within=15,
    )
    spans = traced.receiver.wait_for(
        lambda spans: (
            {"POST /auth/login", "POST /auth/refresh", "GET /todos"} <= {s.name for s in spans}
        )
    )
    # The feeds' polls (every second here) are background work: not sampled, on either side.
    polled = [s for s in spans if "/auth/revocations" in s.name or "/auth/events" in s.name]
    assert not polled, polled
    for span in spans:
        text = json.dumps(span.attributes, default=str)
        assert not any(secret in text for secret in secrets_sent), span
        assert "Bearer" not in text, span
