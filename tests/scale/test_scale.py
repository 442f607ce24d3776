"""Two instances of each service behind HAProxy, under Locust's load and faults; then the
invariants, read from the journal of what clients saw acknowledged and from the databases.

The tests run in this order on one cluster (conftest.py); each adds its figures to the report
(build/scale/report.json, printed by `make scale-test`; docs/scale.md holds a run's figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient
from pymongo.database import Database
from tests.scale import checks
from tests.scale.conftest import (
    AUTH_DB,
    LOGIN_LIMIT,
    REVOCATION_POLL_SECONDS,
    TODO_DB,
    WORKERS,
    Cluster,
)
from tests.support import waiting
from tests.support.accounts import Account, LiveHttp, registered
from tests.support.devdb import ROOT

pytestmark = [pytest.mark.gunicorn, pytest.mark.scale]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REPORT = ROOT / "build" / "scale" / "report.json"
#: Throughput: turns with both todo instances and with one, after the readers' warm-up.
PHASES = ("two", "one", "two", "one")
PHASE_SECONDS = 10
WARM_UP = 6
READERS = 12
#: Mixed load with faults.
LOAD_SECONDS = 90
JOURNEY_USERS = 8
#: The documented bound (docs/services/auth.md): one poll interval plus the request in flight,
#: given here a second for that request on a busy two-core machine.
REVOCATION_BOUND_SECONDS = REVOCATION_POLL_SECONDS + 1.0
#: Erasure at todo follows the event feed (EVENT_POLL_SECONDS 2 s, a 10 s lease after a kill).
ERASURE_BOUND_SECONDS = 30.0
RACES = 10


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    figures: dict[str, Any] = {}
    yield figures
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=1) + "\n")


class Locust:
    """A headless Locust run of one user class in the background; its journal and summary."""

    def __init__(self, cluster: Cluster, directory: Path, user_class: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.cluster = cluster
        self.journal = directory / "journal.jsonl"
        self.summary = directory / "summary.json"
        self.user_class = user_class
        self.process: subprocess.Popen[bytes] | None = None
        self.log = directory / "locust.log"
        self.started = 0.0

    def start(self, *, users: int, seconds: int) -> Locust:
        env = {
            **os.environ,
            "SCALE_JOURNAL": str(self.journal),
            "SCALE_SUMMARY": str(self.summary),
            "SCALE_TODO_URL": self.cluster.todo_url,
        }
        command = [
            str(Path(sys.executable).parent / "locust"),
            "--locustfile",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            self.cluster.auth_url,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            # Users finish the journey they are in: what they saw acknowledged is journaled.
            "--stop-timeout",
            "60",
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--loglevel",
            "WARNING",
            self.user_class,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
        self.started = time.monotonic()
        return self

    def at(self, seconds: float) -> None:
        """Sleep until ``seconds`` into the run."""
        time.sleep(max(0.0, self.started + seconds - time.monotonic()))

    def wait(self) -> dict[str, Any]:
        assert self.process is not None
        code = self.process.wait(timeout=300)
        assert code == 0, self.log.read_text()[-3000:]
        summary: dict[str, Any] = json.loads(self.summary.read_text())
        return summary


def statuses(summary: dict[str, Any]) -> dict[str, int]:
    """Answers by status (0: no answer, the connection failed)."""
    counted: Counter[str] = Counter()
    for key, count in summary["statuses"].items():
        counted[key.rsplit(" ", 1)[1]] += count
    return dict(sorted(counted.items()))


def rate(per_second: dict[str, int], start: float, end: float) -> float:
    """Todo answers per second between two wall-clock times (whole seconds within)."""
    seconds = [int(key) for key in per_second if start <= int(key) < end]
    if not seconds:
        return 0.0
    return sum(per_second[str(second)] for second in seconds) / len(seconds)


def served(cluster: Cluster, service: str) -> dict[str, int]:
    """Requests each instance of ``service`` got from the balancer so far (HAProxy's stot)."""
    rows = cluster.balancer.command("show stat").splitlines()
    header = rows[0].lstrip("# ").split(",")
    counts = {}
    for row in rows[1:]:
        cells = dict(zip(header, row.split(","), strict=False))
        if cells.get("pxname") == service and cells.get("svname", "").startswith(service):
            counts[cells["svname"]] = int(cells["stot"])
    return counts


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user and system) the processes and their reaped children have used so far
    (a gunicorn master's count holds its recycled workers')."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_part(cluster: Cluster, load: Locust) -> dict[str, float]:
    """CPU seconds so far of each part: the load, the balancer, each service, the database."""
    assert load.process is not None
    assert cluster.balancer.process is not None
    assert cluster.db.process is not None
    parts = {
        "locust": [load.process.pid],
        "haproxy": [cluster.balancer.process.pid],
        "database": [cluster.db.process.pid],
    }
    for service in ("auth", "todo"):
        parts[service] = [
            pid
            for server in cluster.instances(service)
            if server.process is not None
            for pid in (server.process.pid, *server.worker_pids())
        ]
    return {part: cpu_seconds(pids) for part, pids in parts.items()}


@dataclass
class Turn:
    """One turn of the throughput test: its time, what each instance served, the cores used."""

    instances: str
    started: float
    served: dict[str, int]
    cpu: dict[str, float]
    ended: float = 0.0
    per_second: float = 0.0
    cores: dict[str, float] = field(default_factory=dict)

    def end(self, served_now: dict[str, int], cpu_now: dict[str, float]) -> None:
        self.ended = time.time()
        seconds = self.ended - self.started
        self.served = {name: count - self.served[name] for name, count in served_now.items()}
        self.cores = {
            part: round((cpu_now[part] - self.cpu[part]) / seconds, 2) for part in cpu_now
        }


def test_throughput_with_two_then_one_todo_instance(
    cluster: Cluster, report: dict[str, Any], tmp_path: Path
) -> None:
    """Reads through the balancer, in turns with two todo instances and with one (todo2 taken
    out of rotation): turns, not one long run each, so that a drift of the shared machine's
    load weighs on both alike."""
    load = Locust(cluster, tmp_path, "Readers").start(
        users=READERS, seconds=WARM_UP + len(PHASES) * (PHASE_SECONDS + 1) + 2
    )
    load.at(WARM_UP)  # every reader registered and logged in
    turns: list[Turn] = []
    elapsed = WARM_UP
    try:
        for instances in PHASES:
            cluster.balancer.set_enabled("todo", 2, enabled=instances == "two")
            load.at(elapsed + 1)  # what the instance taken out had in flight is answered
            turn = Turn(instances, time.time(), served(cluster, "todo"), cpu_by_part(cluster, load))
            elapsed += 1 + PHASE_SECONDS
            load.at(elapsed)
            turn.end(served(cluster, "todo"), cpu_by_part(cluster, load))
            turns.append(turn)
        summary = load.wait()
    finally:
        cluster.balancer.set_enabled("todo", 2, enabled=True)
    cluster.wait_in_rotation("todo")

    for turn in turns:
        turn.per_second = round(
            rate(summary["todo_answers_per_second"], turn.started, turn.ended), 1
        )

    def mean(instances: str) -> float:
        chosen = [turn.per_second for turn in turns if turn.instances == instances]
        return sum(chosen) / len(chosen)

    two, one = mean("two"), mean("one")
    report["throughput"] = {
        "readers": READERS,
        "workers_per_instance": WORKERS,
        "seconds_per_turn": PHASE_SECONDS,
        "two_todo_instances_per_second": round(two, 1),
        "one_todo_instance_per_second": round(one, 1),
        "scaling_factor": round(two / one, 2) if one else None,
        "turns": [
            {
                "instances": turn.instances,
                "per_second": turn.per_second,
                "served": turn.served,
                "cores": turn.cores,
            }
            for turn in turns
        ],
        "statuses": statuses(summary),
        "load_average": os.getloadavg(),
    }
    # Round robin over both instances; none to the one out of rotation.
    for turn in turns:
        assert turn.served["todo1"] > 0, turn
        if turn.instances == "two":
            assert turn.served["todo2"] > 0, turn
        else:
            assert turn.served["todo2"] == 0, turn
    # Every read answered 200 (the readers' setup at auth may have been told to retry).
    todo_answers = {key for key in summary["statuses"] if key.startswith("todo: ")}
    assert {key.rsplit(" ", 1)[1] for key in todo_answers} == {"200", "201"}, summary
    assert one > 0
    assert two > 0


def test_mixed_load_through_kills_a_database_restart_and_a_rolling_restart(
    cluster: Cluster, report: dict[str, Any], tmp_path: Path
) -> None:
    load = Locust(cluster, tmp_path, "Journeys").start(users=JOURNEY_USERS, seconds=LOAD_SECONDS)
    faults: list[dict[str, Any]] = []

    def fault(name: str, action: Callable[[], None]) -> None:
        started, wall = time.monotonic() - load.started, time.time()
        action()
        ended = time.monotonic() - load.started
        faults.append(
            {
                "fault": name,
                "from_s": round(started, 1),
                "to_s": round(ended, 1),
                "window": (wall, time.time()),
            }
        )

    load.at(10)
    fault("SIGKILL todo1 (master and workers), start it again", lambda: cluster.crash("todo", 1))
    cluster.wait_in_rotation("todo")
    fault("SIGKILL auth2 (master and workers), start it again", lambda: cluster.crash("auth", 2))
    cluster.wait_in_rotation("auth")
    restarted = {
        "todo1": served(cluster, "todo")["todo1"],
        "auth2": served(cluster, "auth")["auth2"],
    }

    load.at(40)

    def restart_database() -> None:
        cluster.db.kill()
        time.sleep(2)
        cluster.db.start()
        cluster.wait_in_rotation("auth")
        cluster.wait_in_rotation("todo")

    outage_from = time.time()
    fault("SIGKILL the database, start it again 2 s later", restart_database)
    # What the database's restart may disturb: until 10 s after it is back.
    outage = (outage_from, time.time() + 10)

    load.at(55)

    def rolling_restart() -> None:
        for number in (1, 2):
            cluster.restart("todo", number)
            cluster.wait_in_rotation("todo")

    fault("rolling restart of todo (SIGTERM todo1, then todo2)", rolling_restart)
    summary = load.wait()
    # The instances killed came back into rotation and served (before the rolling restart
    # restarted todo1 once more).
    assert served(cluster, "auth")["auth2"] > restarted["auth2"]
    assert served(cluster, "todo")["todo1"] > restarted["todo1"]

    journal = checks.Journal(load.journal)
    for entry in faults:
        start, end = entry.pop("window")
        # What clients saw fail, and retried, from the fault's start to 3 s after its end.
        entry["retried"] = dict(
            Counter(
                f"{retry['name']} {retry['status']}"
                for retry in journal["retried"]
                if start <= retry["at"] <= end + 3
            )
        )
    client: MongoClient[dict[str, Any]]
    with MongoClient(cluster.db.uri) as client:
        auth_db: Database[dict[str, Any]] = client[AUTH_DB]
        todo_db: Database[dict[str, Any]] = client[TODO_DB]
        results = [
            checks.client_answers(journal),
            checks.acknowledged_writes(journal, todo_db),
            checks.revoked_tokens(journal, cluster.todo),
        ]
        erased = waiting.eventually(
            lambda: checks.erasure(journal, [auth_db, todo_db]),
            lambda check: check.held,
            within=ERASURE_BOUND_SECONDS,
            interval=1.0,
        )
        results.append(erased)
    results.append(
        waiting.eventually(
            lambda: checks.mail_once(journal, cluster.mail.messages(), outage=outage),
            lambda check: check.held,
            within=30,
            interval=1.0,
        )
    )
    report["mixed_load"] = {
        "users": JOURNEY_USERS,
        "seconds": LOAD_SECONDS,
        "faults": faults,
        "statuses": statuses(summary),
        "statuses_by_request": dict(sorted(summary["statuses"].items())),
        "accounts": len(journal["account"]),
        "checks": [check.as_dict() for check in results],
    }
    for check in results:
        assert check.held, (check.name, check.problems[:10])
    # The load went on through the faults: every account's journey ran, todos were written.
    assert len(journal["account"]) >= JOURNEY_USERS
    assert len(journal["created"]) >= 3 * JOURNEY_USERS
    assert len(journal["erased"]) > 0


def _at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Each call on its own thread, released together."""
    barrier = threading.Barrier(len(calls))
    answers: list[requests.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_a_refresh_token_raced_on_both_auth_instances_rotates_once(
    cluster: Cluster, report: dict[str, Any]
) -> None:
    account = registered(LiveHttp(cluster.auth_url))
    refresh = account.refresh_token
    successors = []
    for _ in range(RACES):
        answers = _at_once(
            [
                partial(
                    requests.post,
                    f"{server.url}/auth/refresh",
                    headers={"Authorization": f"Bearer {refresh}"},
                    timeout=10,
                )
                for server in cluster.auth
            ]
        )
        assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
        pairs = {answer.json()["refresh_token"] for answer in answers}
        assert len(pairs) == 1, "two rotations of one refresh token"
        refresh = pairs.pop()
        successors.append(refresh)
    client: MongoClient[dict[str, Any]]
    with MongoClient(cluster.db.uri) as client:
        uses = client[AUTH_DB].refresh_token_uses.count_documents({"user_id": account.user_id})
    assert uses == RACES, "one use recorded per rotated token"
    report["refresh_races"] = {"races": RACES, "rotations": len(set(successors)), "uses": uses}


def test_if_match_raced_on_both_todo_instances_has_one_winner(
    cluster: Cluster, report: dict[str, Any]
) -> None:
    account = registered(LiveHttp(cluster.auth_url))
    headers = account.headers()
    created = requests.post(
        f"{cluster.todo_url}/todos", json={"title": "raced"}, headers=headers, timeout=10
    )
    assert created.status_code == 201, created.text
    url = f"/todos/{created.json()['id']}"
    outcomes: Counter[int] = Counter()
    for race in range(RACES):
        etag = requests.get(f"{cluster.todo_url}{url}", headers=headers, timeout=10).headers["ETag"]
        answers = _at_once(
            [
                partial(
                    requests.patch,
                    f"{server.url}{url}",
                    json={"title": f"race {race} by todo{number}"},
                    headers={**headers, "If-Match": etag},
                    timeout=10,
                )
                for number, server in enumerate(cluster.todo, start=1)
            ]
        )
        codes = sorted(answer.status_code for answer in answers)
        outcomes.update(codes)
        assert codes == [200, 412], [answer.text for answer in answers]
        [winner] = [answer.json()["title"] for answer in answers if answer.status_code == 200]
        stored = requests.get(f"{cluster.todo_url}{url}", headers=headers, timeout=10).json()
        assert stored["title"] == winner
    report["if_match_races"] = {"races": RACES, "statuses": dict(outcomes)}


def test_the_login_budget_is_one_across_both_auth_instances(
    cluster: Cluster, report: dict[str, Any]
) -> None:
    """Wrong passwords for one account, alternating between the instances: the per-username
    budget is spent once, not once per instance. (An account that has never logged in from
    this address: a known address is exempt, so that a stranger cannot lock the owner out.)"""
    account = Account(LiveHttp(cluster.auth_url)).register()
    guess = {"username": account.username, "password": "not the password at all"}
    answers = [
        requests.post(f"{cluster.auth[attempt % 2].url}/auth/login", json=guess, timeout=10)
        for attempt in range(2 * LOGIN_LIMIT)
    ]
    codes = [answer.status_code for answer in answers]
    assert codes == [401] * LOGIN_LIMIT + [429] * LOGIN_LIMIT, codes
    refused = answers[LOGIN_LIMIT:]
    assert all(answer.json()["code"] == "rate_limited" for answer in refused)
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in refused)
    report["login_budget"] = {
        "limit_per_minute": LOGIN_LIMIT,
        "attempts_alternating_instances": len(codes),
        "statuses": dict(Counter(codes)),
    }


def test_a_revoked_token_is_refused_by_every_todo_instance_within_the_bound(
    cluster: Cluster, report: dict[str, Any]
) -> None:
    lags = []
    for _ in range(5):
        account = registered(LiveHttp(cluster.auth_url))
        bearer = account.headers()
        for server in cluster.todo:
            assert (
                requests.get(f"{server.url}/todos", headers=bearer, timeout=10).status_code == 200
            )
        logout = requests.post(f"{cluster.auth_url}/auth/logout", headers=bearer, timeout=10)
        assert logout.status_code == 204
        revoked_at = time.monotonic()
        last_accepted = {server.url: revoked_at for server in cluster.todo}
        # Poll each instance (whichever worker answers) well past the bound; note the last 200.
        while time.monotonic() < revoked_at + REVOCATION_BOUND_SECONDS + 2:
            for server in cluster.todo:
                status = requests.get(f"{server.url}/todos", headers=bearer, timeout=10).status_code
                assert status in (200, 401), status
                if status == 200:
                    last_accepted[server.url] = time.monotonic()
            time.sleep(0.05)
        lag = max(last_accepted.values()) - revoked_at
        lags.append(round(lag, 2))
        assert lag <= REVOCATION_BOUND_SECONDS, f"accepted {lag:.1f} s after the logout"
    report["revocation"] = {
        "bound_seconds": REVOCATION_BOUND_SECONDS,
        "poll_seconds": REVOCATION_POLL_SECONDS,
        "last_accepted_after_logout_seconds": lags,
    }
