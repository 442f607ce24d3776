"""Waiting for what happens in the background (a poll, a delivery, a worker), with a deadline
for a slow machine: never a timing assertion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

Value = TypeVar("Value")


def eventually(
    probe: Callable[[], Value],
    accept: Callable[[Value], bool],
    *,
    within: float,
    interval: float = 0.1,
) -> Value:
    """Call ``probe`` until ``accept`` holds for its value or ``within`` seconds pass; the last
    value (the caller asserts on it, so a failure shows what was seen)."""
    deadline = time.monotonic() + within
    value = probe()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    return value


def wait_until(
    condition: Callable[[], bool], *, within: float, interval: float = 0.1, what: str = ""
) -> None:
    """Return once ``condition()`` holds; fail after ``within`` seconds."""
    if not eventually(condition, bool, within=within, interval=interval):
        raise AssertionError(f"not within {within:.0f} s: {what or 'the condition'}")
