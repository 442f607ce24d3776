"""Two instances of auth and two of todo behind HAProxy, one dev database and a mail catcher.

One system for the whole module (starting it is most of a run's fixed cost); the tests run in
the file's order. Run by `make scale-test` (marker `scale`); `make test` leaves these out.
"""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.resilience.system import ready
from tests.scale.balancer import Balancer
from tests.support import waiting
from tests.support.devdb import DevDB
from tests.support.gunicorn import GunicornServer
from tests.support.mailcatcher import MailCatcher, mail_catcher
from tests.support.services import SIGNING_KEY_FILE, auth_server, todo_server

AUTH_DB = "scale_auth"
TODO_DB = "scale_todo"
#: gunicorn workers per instance (production's default is per core; two cores here).
WORKERS = 2
#: How often each todo worker reads auth's revocation feed (the documented bound's interval).
REVOCATION_POLL_SECONDS = 1.0
#: Per-username login budget (auth's default): the rate-limit test spends it across instances.
LOGIN_LIMIT = 10


@dataclass
class Cluster:
    db: DevDB
    mail: MailCatcher
    balancer: Balancer
    auth: list[GunicornServer]
    todo: list[GunicornServer]

    @property
    def auth_url(self) -> str:
        return self.balancer.url("auth")

    @property
    def todo_url(self) -> str:
        return self.balancer.url("todo")

    def instances(self, service: str) -> list[GunicornServer]:
        return self.auth if service == "auth" else self.todo

    def wait_in_rotation(self, service: str, count: int | None = None) -> None:
        """Until the balancer sends requests to ``count`` (all) instances of ``service``."""
        count = count or len(self.instances(service))
        waiting.wait_until(
            lambda: len(self.balancer.up(service)) == count,
            within=60,
            what=f"{count} {service} instances in rotation",
        )

    def crash(self, service: str, number: int) -> None:
        """SIGKILL an instance, master and workers at once (a container killed), then start it
        again on its port."""
        server = self.instances(service)[number - 1]
        assert server.process is not None
        victims = [server.process.pid, *server.worker_pids()]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        server.stop()  # reaps the master
        waiting.wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in victims[1:]),
            within=30,
            what="the killed workers gone",
        )
        waiting.wait_until(
            lambda: f"{service}{number}" not in self.balancer.up(service),
            within=30,
            what=f"{service}{number} out of rotation",
        )
        server.start()
        waiting.wait_until(lambda: ready(server), within=60, what=f"{service}{number} ready")

    def restart(self, service: str, number: int) -> None:
        """SIGTERM an instance (a rolling deploy's step), wait for it to exit, start it again."""
        server = self.instances(service)[number - 1]
        assert server.stop(signal.SIGTERM) == 0
        server.start()
        waiting.wait_until(lambda: ready(server), within=60, what=f"{service}{number} ready")


def _settings(balancer: Balancer, service: str, **more: Any) -> dict[str, Any]:
    """What both instances of a service share: their secret, where they are reached, the
    balancer as the one proxy whose X-Forwarded-For is trusted."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": balancer.url(service),
        "TRUSTED_PROXY_COUNT": 1,
        "LOG_LEVEL": "INFO",
        **more,
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scale")
    db = DevDB(root / "devdb").start()
    balancer = Balancer(root / "haproxy")
    try:
        with mail_catcher() as mail:
            auth_shared = _settings(
                balancer,
                "auth",
                **mail.settings(),
                # Every request comes from 127.0.0.1 here: per-address limits out of the way of
                # the load; per-username ones as shipped.
                LOGIN_RATE_LIMIT_PER_ADDRESS="100000 per minute",
                REGISTER_RATE_LIMIT_PER_ADDRESS="100000 per minute",
                LOGIN_RATE_LIMIT_PER_USERNAME=f"{LOGIN_LIMIT} per minute",
            )
            first = auth_server(
                mongo_uri=db.uri, db_name=AUTH_DB, directory=root / "auth1", **auth_shared
            )
            # One signing key for both instances, as one Secret is mounted into every pod.
            auth = [
                first,
                auth_server(
                    mongo_uri=db.uri,
                    db_name=AUTH_DB,
                    directory=root / "auth2",
                    JWT_PRIVATE_KEY_FILE=str(root / "auth1" / SIGNING_KEY_FILE),
                    **auth_shared,
                ),
            ]
            todo_shared = _settings(
                balancer, "todo", REVOCATION_POLL_SECONDS=REVOCATION_POLL_SECONDS
            )
            todo = [
                todo_server(
                    mongo_uri=db.uri,
                    db_name=TODO_DB,
                    directory=root / f"todo{number}",
                    auth_url=balancer.url("auth"),
                    workers=WORKERS,
                    **todo_shared,
                )
                for number in (1, 2)
            ]
            balancer.start({"auth": auth, "todo": todo})
            started: list[GunicornServer] = []
            try:
                for server in (*auth, *todo):
                    server.start()
                    started.append(server)
                system = Cluster(db, mail, balancer, auth, todo)
                system.wait_in_rotation("auth")
                system.wait_in_rotation("todo")
                yield system
            finally:
                for server in reversed(started):
                    server.stop()
    finally:
        balancer.stop()
        db.stop()
