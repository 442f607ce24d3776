"""Production gunicorn settings: ``gunicorn -c python:factory_core.runtime.gunicorn_config``.

Every value can be overridden with GUNICORN_CMD_ARGS or the environment variables read below.
"""

import gc
import math
import os
import shutil
import tempfile
from typing import Any

from factory_core.runtime import lifecycle


def available_cpus() -> int:
    """CPUs this process may use: the cgroup v2 quota (containers), else the affinity mask."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as limits:
            quota, period = limits.read().split()
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0))


bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# The app, unless the command line names one (the images set WSGI_APP: one Dockerfile for all).
wsgi_app = os.environ.get("WSGI_APP") or None
workers = int(os.environ.get("WEB_CONCURRENCY", available_cpus() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# The app is loaded once, in the master, and forked into each worker: a worker (re)starts in
# milliseconds and shares the loaded code's memory. Everything that must not cross a fork (the
# database client, background threads) starts per process, after it (runtime.lifecycle).
preload_app = os.environ.get("GUNICORN_PRELOAD_APP", "true").lower() != "false"
# Recycling workers bounds the damage of any slow leak; jitter avoids all restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# Heartbeat files on a memory filesystem: a slow disk must not make workers look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# The app logs one JSON line per request itself (factory_core.runtime.observability).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn >= 25 opens a control socket under $HOME by default: two services on one host
# would share the path, and a read-only root filesystem would refuse it. Opt in with a path.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
limit_request_line = 8190
limit_request_fields = 100


def _prometheus_directory() -> str | None:
    """One fresh directory for the workers' Prometheus metrics (multiprocess mode).

    Set as this configuration is read, before the master loads the app (preload_app):
    prometheus_client fixes its storage class when it is first imported.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="prometheus-", dir=worker_tmp_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


# Each worker starts what must not cross the fork (tracing's exporter) in post_worker_init.
lifecycle.defer_to_workers()

#: Removed on exit when this configuration made it.
_own_prometheus_directory = _prometheus_directory()


def pre_fork(server: Any, worker: Any) -> None:
    """Freeze the loaded app's objects (tens of thousands) out of the garbage collector's way.

    A full collection walks every tracked object: with the app's own, tens of milliseconds
    that some request waits. Frozen, they are never walked, and the pages holding them stay
    shared with the master (copy-on-write), as the gc module's documentation advises.
    """
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """Get the worker ready before it accepts a request (factory_core.runtime.lifecycle.start)."""
    from factory_core.runtime.lifecycle import start  # noqa: PLC0415 (the worker has the app)

    start(worker.wsgi)
    gc.freeze()  # what the warm-up made (clients, keys) lives as long as the worker


def worker_exit(server: Any, worker: Any) -> None:
    """End a worker that is leaving (recycled, or stopped) at once (runtime.lifecycle)."""
    from factory_core.runtime.lifecycle import exit_worker  # noqa: PLC0415 (as in post_worker_init)

    exit_worker(getattr(worker, "wsgi", None))


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges so /metrics reports only running workers."""
    # Imported here, never at the top: prometheus_client fixes its storage class at import,
    # so it must not be imported before PROMETHEUS_MULTIPROC_DIR is set (above).
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _own_prometheus_directory:
        shutil.rmtree(_own_prometheus_directory, ignore_errors=True)
