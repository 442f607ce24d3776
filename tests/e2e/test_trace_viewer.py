"""The trace viewer of `make run TRACING=1`, as the README tells a new user to use it.

Zipkin started by tools/trace-viewer, both services under gunicorn with the variables the
Makefile exports: a client's request shows in Zipkin as one trace across todo and auth.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.support.accounts import registered
from tests.support.devdb import ROOT, free_port
from tests.support.otlp import new_traceparent
from tests.support.services import todo_then_auth
from tests.support.waiting import eventually

pytestmark = pytest.mark.gunicorn


@pytest.fixture(scope="module")
def zipkin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path_factory.mktemp("zipkin") / "zipkin.log"
    with open(log, "wb") as output:
        viewer = subprocess.Popen(
            [str(ROOT / "tools" / "trace-viewer"), "foreground"],
            env={**os.environ, "TRACE_VIEWER_LISTEN": address},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://{address}"
            deadline = time.monotonic() + 120
            while not _answers(f"{url}/health"):
                assert viewer.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.5)
            yield url
        finally:
            viewer.terminate()
            viewer.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_request_across_both_services_is_one_trace_in_the_viewer(
    zipkin: str, mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    environment = {
        # What `make run TRACING=1` exports (tests/unit/test_makefile.py holds it to that).
        "OTEL_TRACES_EXPORTER": "zipkin_json",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{zipkin}/api/v2/spans",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    with todo_then_auth(
        mongo_uri=mongo_uri, db_name=db_name, directory=tmp_path, environment=environment
    ) as (auth, todo):
        account = registered(auth.url)
        traceparent, trace_id, client_span_id = new_traceparent()
        headers = {**account.headers(), "traceparent": traceparent}
        answer = eventually(
            lambda: requests.get(f"{todo.url}/todos", headers=headers, timeout=10),
            lambda r: r.status_code == 200,
            within=15,
        )
        assert answer.status_code == 200, answer.text

        def shown() -> list[dict[str, Any]]:
            found = requests.get(f"{zipkin}/api/v2/trace/{trace_id}", timeout=5)
            return found.json() if found.status_code == 200 else []

        def complete(spans: list[dict[str, Any]]) -> bool:
            """Both services there, and every span's parent (spans arrive in batches)."""
            known = {span["id"] for span in spans} | {client_span_id}
            return _services(spans) == {"todo", "auth"} and all(
                span.get("parentId") in known for span in spans
            )

        deadline = time.monotonic() + 15
        spans = shown()
        while not complete(spans) and time.monotonic() < deadline:
            time.sleep(0.2)
            spans = shown()
    assert _services(spans) == {"todo", "auth"}, spans
    by_id = {span["id"]: span for span in spans}
    # Each todo worker fetches auth's keys at its first token: one fetch or two in the trace.
    key_answers = [s for s in spans if s["name"] == "get /.well-known/jwks.json"]
    assert key_answers, spans
    for keys in key_answers:
        fetch = by_id[keys["parentId"]]
        assert (fetch["localEndpoint"]["serviceName"], fetch["kind"]) == ("todo", "CLIENT")
        assert by_id[fetch["parentId"]]["localEndpoint"]["serviceName"] == "todo"
    page = requests.get(f"{zipkin}/zipkin/", timeout=5)
    assert page.status_code == 200
    assert "<title>Zipkin</title>" in page.text


def _services(spans: list[dict[str, Any]]) -> set[str]:
    return {span["localEndpoint"]["serviceName"] for span in spans}
