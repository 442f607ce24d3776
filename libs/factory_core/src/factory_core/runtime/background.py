"""A loop in one background thread per process (a thread never crosses gunicorn's fork)."""

from __future__ import annotations

import os
import threading
import weakref

from factory_core.runtime.tracing import in_background


class PerProcessLoop:
    """Subclasses implement :meth:`round` and may extend :meth:`reset`; they set what
    ``reset`` reads before calling ``super().__init__()``."""

    thread_name = "background"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_this_process()

    def _in_this_process(self) -> None:
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        """The state of this process only (a forked child starts from here again)."""

    def round(self) -> float:
        """One round of work; the seconds to wait before the next (0: at once)."""
        raise NotImplementedError

    def adopt(self) -> None:
        """Make the state this process's own (a forked child's starts from ``reset``), once:
        before anything in the process uses it."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._in_this_process()  # state copied from the parent is not this one's

    def ensure_started(self) -> None:
        """Start this process's thread (once per process: a forked child starts its own)."""
        if self._pid == os.getpid() and self._thread is not None:
            return
        self.adopt()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=_loop,
                    args=(weakref.ref(self), self._stop, self._wake),
                    name=self.thread_name,
                    daemon=True,
                )
                self._thread.start()

    def wake(self) -> None:
        """End the current wait: the next round starts now."""
        self._wake.set()

    def stop(self, wait: float = 15.0) -> None:
        """Stop the thread, waiting up to ``wait`` seconds for a round in progress to end; the loop
        then no longer uses the database (a lease it held runs out for another to take)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if (
            thread is not None
            and self._pid == os.getpid()
            and thread is not threading.current_thread()
        ):
            thread.join(wait)


def _loop(ref: weakref.ref[PerProcessLoop], stop: threading.Event, wake: threading.Event) -> None:
    in_background()  # polls and deliveries are not sampled (factory_core.runtime.tracing)
    while not stop.is_set():
        loop = ref()
        if loop is None:
            return
        delay = loop.round()
        del loop
        if delay > 0:
            wake.wait(delay)
        wake.clear()
