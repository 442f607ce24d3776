"""The system under test: a dev database, auth, todo and the baseline, each a real gunicorn."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.devdb import DEVDB_BIN, DevDB
from tests.support.gunicorn import GunicornServer
from tests.support.services import FEED_TOKEN, SIGNING_KEY_FILE, auth_server, todo_server

from factory_core.trust.issuer import TrustedIssuerSettings

AUTH_DB = "bench_auth"
TODO_DB = "bench_todo"
#: The growth check's own todo database: one user with 1,000 todos, then with 100,000.
GROWTH_DB = "bench_todo_growth"
#: The memory soak's own todo database: small, so the soak measures the service, not scans.
MEMORY_DB = "bench_todo_memory"
#: Workers per server (the setup the performance issue was measured with: two each, and
#: wrk -t2 -c16); the same for every server of the run.
DEFAULT_WORKERS = 2
DEFAULT_CONNECTIONS = 16
#: Rate limits stay on (production refuses to start without them) but never bind in a benchmark.
_UNREACHABLE_LIMIT = "100000000 per minute"


class ExternalDB:
    """A MongoDB given by MONGO_URI (e.g. a real replica set) instead of the dev database."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def stop(self) -> None:
        from pymongo import MongoClient  # noqa: PLC0415

        client: MongoClient[dict[str, object]] = MongoClient(self.uri)
        for name in (AUTH_DB, TODO_DB, GROWTH_DB, MEMORY_DB):
            client.drop_database(name)
        client.close()


Database = DevDB | ExternalDB


#: Free memory-backed space (/dev/shm) the dev database's files may take: the 100,000 todos
#: of the growth check and the journal stay well under it.
_IN_MEMORY_ROOM = 4 * 1024**3
_SHM = Path("/dev/shm")  # noqa: S108 (a private directory is made inside it)


def database_directory(workdir: Path) -> Path:
    """Where the dev database keeps its files: in memory (/dev/shm) when there is room.

    A benchmark measures the services, not the machine's disk: the dev database syncs its
    journal on every acknowledged write, and on the virtual machine the README's figures come
    from, two runs of four threads writing for two minutes met 26 and 27 stalls of 40 ms to
    1.8 s, each holding every write of whichever side's round it fell in.
    """
    if not _SHM.is_dir():
        return workdir / "devdb"
    # A run killed before its cleanup left its files there (two benchmarks never run at once
    # on one machine: they would measure each other).
    for stale in _SHM.glob("bench-devdb-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if shutil.disk_usage(_SHM).free < _IN_MEMORY_ROOM:
        return workdir / "devdb"
    return Path(tempfile.mkdtemp(prefix="bench-devdb-", dir=_SHM))


def start_database(workdir: Path, cleanup: ExitStack) -> Database:
    """MONGO_URI's server when set (its bench databases are dropped first), else a dev database
    (its files removed by ``cleanup`` when they were in memory)."""
    if os.environ.get("MONGO_URI"):
        external = ExternalDB(os.environ["MONGO_URI"])
        external.stop()
        return external
    directory = database_directory(workdir)
    if directory.is_relative_to(_SHM):
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
    return DevDB(directory).start()


def describe_database(db: Database) -> str:
    """What the run measured on: the dev database, or the MongoDB given by MONGO_URI."""
    from pymongo import MongoClient  # noqa: PLC0415

    with MongoClient(db.uri, serverSelectionTimeoutMS=5000) as client:
        hello = client.admin.command("hello")
        version = client.server_info()["version"]
    topology = "single-node replica set" if hello.get("setName") else "standalone"
    if isinstance(db, DevDB):
        built = subprocess.run(  # noqa: S603 (a fixed command line)
            [str(DEVDB_BIN), "--version"], capture_output=True, text=True, check=True
        ).stdout.split()
        return (
            f"dev database ({built[0]} {built[1]}: SecantusDB's MongoDB server on WiredTiger, "
            f"files {'in memory' if db.data_dir.is_relative_to(_SHM) else 'on disk'}, "
            f"reporting MongoDB {version}), {topology}"
        )
    return f"MongoDB {version} (MONGO_URI), {topology}"


#: What the benchmark changes of production: rate limits that never bind, and nothing else
#: (the access log stays at INFO, and the revocation feed is read at production's pace, not
#: the tests' once a second).
_BENCH_SETTINGS = {
    **{
        f"{action}_RATE_LIMIT_PER_{scope}": _UNREACHABLE_LIMIT
        for action in ("LOGIN", "REGISTER")
        for scope in ("USERNAME", "ADDRESS")
    },
    "LOG_LEVEL": "INFO",
}
_TODO_BENCH_SETTINGS = {
    **_BENCH_SETTINGS,
    "REVOCATION_POLL_SECONDS": TrustedIssuerSettings.REVOCATION_POLL_SECONDS,
}


def baseline_env(db: Database, auth: Path, auth_url: str) -> dict[str, str]:
    """The baseline on the services' own databases, signing key (in ``auth``) and feed."""
    return {
        "BASELINE_MONGO_URI": db.uri,
        "BASELINE_AUTH_DB": AUTH_DB,
        "BASELINE_TODO_DB": TODO_DB,
        "BASELINE_JWKS_URL": f"{auth_url}/.well-known/jwks.json",
        "BASELINE_PRIVATE_KEY_FILE": str(auth / SIGNING_KEY_FILE),
        "BASELINE_REVOCATION_FEED_URL": f"{auth_url}/auth/revocations",
        "BASELINE_FEED_TOKEN": FEED_TOKEN,
    }


class UvicornServer(GunicornServer):
    """A FastAPI app as FastAPI's docs deploy it: ``uvicorn --workers N``, uvloop, httptools."""

    def command(self) -> list[str]:
        return [
            str(Path(sys.executable).parent / "uvicorn"),
            self.app,
            "--host=127.0.0.1",
            f"--port={self.port}",
            f"--workers={self.workers}",
            "--loop=uvloop",
            "--http=httptools",
        ]

    def worker_pids(self) -> list[int]:
        """The workers (multiprocessing's resource tracker, also a child, is not one); uvicorn
        serves in its own process when given one worker."""
        if self.workers == 1:
            assert self.process is not None
            return [self.process.pid]
        return [
            pid
            for pid in super().worker_pids()
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]


#: The FastAPI peer's variants (bench/fastapi_peer.py): the side's name and its app.
FASTAPI_PEERS = {
    "fastapi_sync": "bench.fastapi_peer:sync_app",
    "fastapi_async": "bench.fastapi_peer:async_app",
}


@dataclass
class Stack:
    db: Database
    auth: GunicornServer
    todo: GunicornServer
    baseline: GunicornServer
    #: The FastAPI peer's variants by side name (FASTAPI_PEERS).
    peers: dict[str, GunicornServer]
    workdir: Path

    def todo_server(
        self, database: str, *, workers: int, environment: dict[str, str] | None = None
    ) -> GunicornServer:
        """A todo server (not started) in the run's configuration, on ``database``."""
        return todo_server(
            mongo_uri=self.db.uri,
            db_name=database,
            directory=self.workdir / "todo",
            auth_url=self.auth.url,
            workers=workers,
            environment=environment,
            **_TODO_BENCH_SETTINGS,
        )


@contextmanager
def running_stack(workdir: Path, *, workers: int) -> Iterator[Stack]:
    """Start everything; stop everything on exit, whatever happened."""
    with ExitStack() as stack:
        db = start_database(workdir, stack)
        stack.callback(db.stop)
        auth = stack.enter_context(
            auth_server(
                mongo_uri=db.uri,
                db_name=AUTH_DB,
                directory=workdir / "auth",
                workers=workers,
                **_BENCH_SETTINGS,
            )
        )
        todo = stack.enter_context(
            todo_server(
                mongo_uri=db.uri,
                db_name=TODO_DB,
                directory=workdir / "todo",
                auth_url=auth.url,
                workers=workers,
                **_TODO_BENCH_SETTINGS,
            )
        )
        baseline = stack.enter_context(
            GunicornServer(
                "bench.baseline_app:create_app()",
                baseline_env(db, workdir / "auth", auth.url),
                workers=workers,
                log_path=workdir / "baseline.log",
            )
        )
        peers = {
            side: stack.enter_context(
                UvicornServer(
                    app,
                    baseline_env(db, workdir / "auth", auth.url),
                    workers=workers,
                    log_path=workdir / f"{side}.log",
                )
            )
            for side, app in FASTAPI_PEERS.items()
        }
        yield Stack(db, auth, todo, baseline, peers, workdir)


def rss_kib(pid: int) -> int:
    """The resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: GunicornServer) -> float:
    """CPU time (user and system) a gunicorn server has used so far: its master, its live
    workers, and the workers it has reaped (recycled after GUNICORN_MAX_REQUESTS)."""
    assert server.process is not None
    fields = _stat(server.process.pid)
    total = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    for pid in server.worker_pids():
        # A worker reaped since is counted in the master's cutime and cstime.
        with contextlib.suppress(FileNotFoundError):
            total += sum(int(value) for value in _stat(pid)[11:13])
    return total / _TICKS


def _stat(pid: int) -> list[str]:
    # /proc/<pid>/stat after the command name (which may hold spaces): field 3 on.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def workers_rss_kib(server: GunicornServer) -> list[int]:
    return sorted(rss_kib(pid) for pid in server.worker_pids())
