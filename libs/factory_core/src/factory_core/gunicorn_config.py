"""Production gunicorn settings, used as ``gunicorn -c python:factory_core.gunicorn_config``.

Every value can be overridden with GUNICORN_CMD_ARGS or the environment variables read below.
"""

import math
import os
import shutil
import tempfile
from typing import Any


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
# Recycling workers bounds the damage of any slow leak; jitter avoids all restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# Heartbeat files on a memory filesystem: a slow disk must not make workers look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# The app logs one JSON line per request itself (factory_core.observability).
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


def on_starting(server: Any) -> None:
    """Give the workers one fresh directory for Prometheus' multiprocess metrics."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = tempfile.mkdtemp(prefix="prometheus-", dir=worker_tmp_dir)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        server.cfg.env_orig_prometheus = path  # removed on exit


def post_worker_init(worker: Any) -> None:
    """Start the app's background consumers as the worker boots, not at its first request."""
    from factory_core.events import start_consumers  # noqa: PLC0415 (the worker has the app)

    start_consumers(worker.wsgi)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges so /metrics reports only running workers."""
    # Imported here, never at the top: prometheus_client fixes its storage class at import,
    # so the master must not import it before on_starting sets PROMETHEUS_MULTIPROC_DIR.
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    path = getattr(server.cfg, "env_orig_prometheus", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)
