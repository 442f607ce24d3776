"""`make profile`: where a todo request's time goes, service beside baseline (pyinstrument).

    .venv/bin/python -m bench.profile [--requests 300] [--path get|list|post] [--all]

Both apps run in this process against a running stack's database and auth (as in the
benchmark, production settings); each gets the same requests through Flask's test client,
without gunicorn and wrk, so the profile shows the Python work of one request.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from pyinstrument import Profiler

from bench import seed
from bench.stack import TODO_DB, Stack, baseline_env, running_stack
from factory_core.trust.issuer import revocation_feed
from todo_service import create_app


def _apps(stack: Stack) -> tuple[Flask, Flask]:
    # The todo server's own configuration, in process (settings are TODO_* variables).
    env = stack.todo.env
    config: dict[str, Any] = {
        name.removeprefix("TODO_"): value for name, value in env.items() if name.startswith("TODO_")
    }
    service = create_app(config)
    os.environ.update(baseline_env(stack.db, stack.workdir / "auth", stack.auth.url))
    from bench.baseline_app import create_app as create_baseline  # noqa: PLC0415

    return service, create_baseline()


def profile(app: Flask, name: str, call: Any, requests: int, *, show_all: bool) -> float:
    client = app.test_client()
    for _ in range(20):  # warm caches: keys, indexes, the revocation feed
        call(client)
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for _ in range(requests):
            answer = call(client)
            assert answer.status_code < 300, answer.get_data(as_text=True)
    per_request = (time.perf_counter() - started) / requests * 1000
    print(f"\n===== {name}: {per_request:.2f} ms per request (in process) =====")
    print(profiler.output_text(unicode=True, color=False, show_all=show_all))
    return per_request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--path", choices=("get", "list", "post"), default="get")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="profile-") as workdir,
        running_stack(Path(workdir), workers=1) as stack,
    ):
        account = seed.register(stack.auth.url, "profile-user")
        ids = seed.insert_todos(stack.db.uri, TODO_DB, account.user_id, 100)
        headers = {"Authorization": f"Bearer {seed.access_token(stack.auth.url, account.username)}"}
        calls = {
            "get": lambda client: client.get(f"/todos/{ids[7]}", headers=headers),
            "list": lambda client: client.get("/todos?page=1&page_size=20", headers=headers),
            "post": lambda client: client.post("/todos", json={"title": "p"}, headers=headers),
        }
        # The service's access log is part of the work, but not of this report.
        with open(Path(workdir) / "access.log", "w") as log, contextlib.redirect_stderr(log):
            service, baseline = _apps(stack)
            ours = profile(
                service, "todo service", calls[args.path], args.requests, show_all=args.all
            )
            theirs = profile(
                baseline, "baseline", calls[args.path], args.requests, show_all=args.all
            )
            # Before the log file closes and auth stops: the poller would log its failures there.
            feed = revocation_feed(service)
            if feed is not None:
                feed.stop()
        print(f"service / baseline, Python time per request: {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
