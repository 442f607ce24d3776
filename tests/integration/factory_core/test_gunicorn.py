"""factory_core under a real gunicorn master with several workers, as in production."""

from __future__ import annotations

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
