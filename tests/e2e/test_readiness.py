"""Readiness means ready: once /readyz answers 200, no request fails for a reason it covers.

auth and todo start at the same time, as `make run`, a deploy or a node's restart starts them:
todo's workers boot while auth is not answering yet. Third audit, 11.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from tests.support.accounts import registered
from tests.support.services import todo_then_auth

pytestmark = pytest.mark.gunicorn

#: Requests after /readyz first answered 200: one every 0.1 s for this long.
WATCH_SECONDS = 6.0


def test_once_ready_every_authenticated_request_is_served(mongo_uri: str, tmp_path: Path) -> None:
    # The shipped poll interval (5 s), not the tests' 1 s; two workers per service.
    environment = {"TODO_REVOCATION_POLL_SECONDS": "5"}
    with todo_then_auth(
        mongo_uri=mongo_uri, db_name="readiness", directory=tmp_path, environment=environment
    ) as (auth, todo):
        headers = registered(auth.url).headers()
        deadline = time.monotonic() + 30
        while requests.get(f"{todo.url}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "todo never became ready"
            time.sleep(0.1)
        answers = []
        until = time.monotonic() + WATCH_SECONDS
        while time.monotonic() < until:
            answer = requests.get(f"{todo.url}/todos", headers=headers, timeout=5)
            answers.append((answer.status_code, answer.json() if answer.status_code != 200 else ""))
            time.sleep(0.1)
    failed = [answer for answer in answers if answer[0] != 200]
    assert not failed, f"{len(failed)} of {len(answers)} requests failed after ready: {failed[:3]}"
