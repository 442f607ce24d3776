"""factory_core under a real gunicorn master with several workers, as in production."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from tests.support.gunicorn import GunicornServer
from tests.support.otlp import OtlpReceiver, new_traceparent

pytestmark = pytest.mark.gunicorn


@pytest.fixture
def server(mongo_uri: str, db_name: str, tmp_path: Path) -> Iterator[GunicornServer]:
    env = {"SAMPLE_ENV": "testing", "SAMPLE_MONGO_URI": mongo_uri, "SAMPLE_MONGO_DB_NAME": db_name}
    with GunicornServer(
        "tests.support.sample:create_sample()",
        env,
        workers=2,
        log_path=tmp_path / "gunicorn.log",
    ) as running:
        yield running


def _requests_total(text: str, route: str) -> float:
    pattern = (
        rf'http_requests_total{{method="GET",route="{re.escape(route)}",[^}}]*status="200"}} (\S+)'
    )
    return sum(float(value) for value in re.findall(pattern, text))


def test_metrics_add_up_across_workers(server: GunicornServer) -> None:
    # Concurrent clients keep both sync workers busy, so each worker counts only part of the
    # requests: the total is right only if /metrics aggregates every worker's counts.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: requests.get(f"{server.url}/livez", timeout=5).status_code, range(80)
            )
        )
    assert statuses == [200] * 80
    text = requests.get(f"{server.url}/metrics", timeout=5).text
    assert _requests_total(text, "/livez") >= 80


def test_killed_worker_is_replaced_and_others_keep_serving(server: GunicornServer) -> None:
    victim, survivor = server.worker_pids()[:2]
    os.kill(victim, signal.SIGKILL)
    for _ in range(20):
        assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if victim not in pids and len(pids) == 2:
            break
        time.sleep(0.1)
    assert victim not in server.worker_pids()
    assert survivor in server.worker_pids()
    assert len(server.worker_pids()) == 2


def test_sigterm_stops_gracefully(server: GunicornServer) -> None:
    assert requests.get(f"{server.url}/livez", timeout=5).status_code == 200
    assert server.stop(signal.SIGTERM) == 0


def test_leaving_workers_write_their_spans_and_log_lines_first(
    mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    # A worker that leaves (recycled after max_requests, or stopped) ends with os._exit, so
    # that gunicorn need not wait ~0.5 s for pymongo's threads to start its replacement
    # (factory_core.runtime.lifecycle.exit_worker). What the interpreter's exit would have written
    # still is: the batch of spans (exported only when a worker leaves, here) and the logs.
    log = tmp_path / "gunicorn.log"
    with OtlpReceiver() as receiver:
        env = {
            "SAMPLE_ENV": "testing",
            "SAMPLE_MONGO_URI": mongo_uri,
            "SAMPLE_MONGO_DB_NAME": db_name,
            "GUNICORN_MAX_REQUESTS": "4",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",  # no export but the one of a leaving worker
        }
        server = GunicornServer(
            "tests.support.sample:create_sample()", env, workers=1, log_path=log
        ).start()
        try:
            trace_ids, workers = [], set(server.worker_pids())
            for _ in range(10):
                traceparent, trace_id, _span_id = new_traceparent()
                answer = requests.get(
                    f"{server.url}/items/unknown", headers={"traceparent": traceparent}, timeout=5
                )
                assert answer.status_code == 404
                trace_ids.append(trace_id)
                workers.update(server.worker_pids())
        finally:
            status = server.stop(signal.SIGTERM)
        assert status == 0
        spans = receiver.wait_for(
            lambda spans: {s.trace_id for s in spans if s.kind == "SERVER"} >= set(trace_ids)
        )
    assert len(workers) >= 3  # recycled twice at least, then stopped
    senders = {s.resource["process.pid"] for s in spans if s.trace_id in trace_ids}
    assert len(senders) >= 3
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("path") == "/items/unknown"]
    assert sorted(line["trace_id"] for line in logged) == sorted(trace_ids)
    # Every worker left through exit_worker's os._exit, none through the interpreter's exit.
    booted = log.read_text().count("Booting worker")
    exits = [line for line in lines if line["message"].endswith("ms, exiting")]
    assert len(exits) == booted >= 3
    assert "exited with code" not in log.read_text()
