"""The system under test: a dev database, auth, todo and the baseline, each a real gunicorn."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support.devdb import DEVDB_BIN, DevDB
from tests.support.gunicorn import GunicornServer

AUTH_DB = "bench_auth"
TODO_DB = "bench_todo"
#: The growth check's own todo database: one user with 1,000 todos, then with 100,000.
GROWTH_DB = "bench_todo_growth"
#: The memory soak's own todo database: small, so the soak measures the service, not scans.
MEMORY_DB = "bench_todo_memory"
#: Production gunicorn's own default (2 x cores + 1), used for every server of the run.
DEFAULT_WORKERS = multiprocessing.cpu_count() * 2 + 1
#: Rate limits stay on (production refuses to start without them) but never bind in a benchmark.
_UNREACHABLE_LIMIT = "100000000 per minute"


@dataclass
class Secrets:
    """What production needs configured: a signing key, Flask secrets, the feed token."""

    directory: Path
    feed_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __post_init__(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.private_key_file = self.directory / "jwt-signing-key.pem"
        self.private_key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.private_key_file.chmod(0o600)


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


def start_database(directory: Path) -> Database:
    """MONGO_URI's server when set (its bench databases are dropped first), else a dev database."""
    if os.environ.get("MONGO_URI"):
        external = ExternalDB(os.environ["MONGO_URI"])
        external.stop()
        return external
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
            f"reporting MongoDB {version}), {topology}"
        )
    return f"MongoDB {version} (MONGO_URI), {topology}"


def auth_env(db: Database, keys: Secrets, instance: Path) -> dict[str, str]:
    """auth in its production configuration."""
    env = {
        "AUTH_ENV": "production",
        "AUTH_SECRET_KEY": keys.secret_key,
        "AUTH_INSTANCE_PATH": str(instance),
        "AUTH_MONGO_URI": db.uri,
        "AUTH_MONGO_DB_NAME": AUTH_DB,
        "AUTH_JWT_PRIVATE_KEY_FILE": str(keys.private_key_file),
        "AUTH_REVOCATION_FEED_TOKEN": keys.feed_token,
    }
    for action in ("LOGIN", "REGISTER"):
        for per in ("USERNAME", "ADDRESS"):
            env[f"AUTH_{action}_RATE_LIMIT_PER_{per}"] = _UNREACHABLE_LIMIT
    return env


def todo_env(db: Database, keys: Secrets, instance: Path, auth_url: str) -> dict[str, str]:
    """todo in its production configuration, trusting auth's JWKS and revocation feed."""
    return {
        "TODO_ENV": "production",
        "TODO_SECRET_KEY": keys.secret_key,
        "TODO_INSTANCE_PATH": str(instance),
        "TODO_MONGO_URI": db.uri,
        "TODO_MONGO_DB_NAME": TODO_DB,
        "TODO_JWKS_URL": f"{auth_url}/.well-known/jwks.json",
        "TODO_REVOCATION_FEED_URL": f"{auth_url}/auth/revocations",
        "TODO_REVOCATION_FEED_TOKEN": keys.feed_token,
    }


def baseline_env(db: Database, keys: Secrets, auth_url: str) -> dict[str, str]:
    """The baseline on the services' own databases, keys and feed."""
    return {
        "BASELINE_MONGO_URI": db.uri,
        "BASELINE_AUTH_DB": AUTH_DB,
        "BASELINE_TODO_DB": TODO_DB,
        "BASELINE_JWKS_URL": f"{auth_url}/.well-known/jwks.json",
        "BASELINE_PRIVATE_KEY_FILE": str(keys.private_key_file),
        "BASELINE_REVOCATION_FEED_URL": f"{auth_url}/auth/revocations",
        "BASELINE_REVOCATION_FEED_TOKEN": keys.feed_token,
    }


@dataclass
class Stack:
    db: Database
    auth: GunicornServer
    todo: GunicornServer
    baseline: GunicornServer
    keys: Secrets
    workdir: Path

    def todo_server(self, database: str, *, workers: int, **extra_env: str) -> GunicornServer:
        """Another todo server on a database of its own (growth, memory soak)."""
        env = {
            **todo_env(self.db, self.keys, self.workdir / "todo", self.auth.url),
            "TODO_MONGO_DB_NAME": database,
            **extra_env,
        }
        return GunicornServer(
            "todo_service.wsgi:app",
            env,
            workers=workers,
            log_path=self.workdir / f"{database}.log",
        )


@contextmanager
def running_stack(workdir: Path, *, workers: int) -> Iterator[Stack]:
    """Start everything; stop everything on exit, whatever happened."""
    for name in ("devdb", "auth", "todo"):
        (workdir / name).mkdir(parents=True, exist_ok=True)
    keys = Secrets(workdir)
    with ExitStack() as stack:
        db = start_database(workdir / "devdb")
        stack.callback(db.stop)
        auth = GunicornServer(
            "auth_service.wsgi:app",
            auth_env(db, keys, workdir / "auth"),
            workers=workers,
            log_path=workdir / "auth.log",
        )
        stack.enter_context(auth)
        todo = GunicornServer(
            "todo_service.wsgi:app",
            todo_env(db, keys, workdir / "todo", auth.url),
            workers=workers,
            log_path=workdir / "todo.log",
        )
        stack.enter_context(todo)
        baseline = GunicornServer(
            "bench.baseline_app:create_app()",
            baseline_env(db, keys, auth.url),
            workers=workers,
            log_path=workdir / "baseline.log",
        )
        stack.enter_context(baseline)
        yield Stack(db, auth, todo, baseline, keys, workdir)


def rss_kib(pid: int) -> int:
    """The resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def workers_rss_kib(server: GunicornServer) -> list[int]:
    return sorted(rss_kib(pid) for pid in server.worker_pids())
