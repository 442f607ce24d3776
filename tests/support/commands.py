"""The commands a piece of code sends to MongoDB (pymongo's command monitoring), for tests
that prove the shape of a query's cost without timing it."""

from __future__ import annotations

import threading
from typing import Any

from pymongo import monitoring

Command = dict[str, Any]


class CommandRecorder(monitoring.CommandListener):
    """``with recorder:`` records the commands this thread starts (a Flask test client runs
    the request in it; background loops are not recorded), as (name, collection, command)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, Any, Command]] = []
        self._thread: int | None = None

    def __enter__(self) -> CommandRecorder:
        self.commands = []
        self._thread = threading.get_ident()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._thread = None

    def named(self, name: str, collection: str) -> list[Command]:
        return [c for n, coll, c in self.commands if n == name and coll == collection]

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if threading.get_ident() == self._thread:
            command = dict(event.command)
            self.commands.append((event.command_name, command.get(event.command_name), command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_RECORDER = CommandRecorder()
# pymongo's global hook: every client made after this import reports to the recorder (it
# records nothing outside a ``with``).
monitoring.register(_RECORDER)


def command_recorder() -> CommandRecorder:
    """The process's recorder (import this module before the app makes its client)."""
    return _RECORDER


def next_link(response: Any) -> str | None:
    """The target of a response's Link rel="next", if any."""
    for link in response.headers.get("Link", "").split(", "):
        if link.endswith('rel="next"'):
            return str(link[1 : link.index(">")])
    return None
