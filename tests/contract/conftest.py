"""Contract tests: service bugs schemathesis found are strict xfails, and nothing wider."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest
from tests.contract.fuzzing import KNOWN_BUGS_KEY, KnownServiceBugError


def pytest_configure(config: pytest.Config) -> None:
    # pact's Rust core reports usage to a remote server unless told not to; tests stay offline.
    os.environ["PACT_DO_NOT_TRACK"] = "true"


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """xfail(strict=True, raises=KnownServiceBugError), for tests with recorded service bugs.

    Done here rather than with the marker: hypothesis reports distinct failures as a group
    (one KnownServiceBugError each), which the marker's `raises` cannot see into.
    """
    try:
        result = yield
    except BaseException as error:
        known = pyfuncitem.stash.get(KNOWN_BUGS_KEY, [])
        leaves = list(_leaves(error))
        if known and leaves and all(isinstance(leaf, KnownServiceBugError) for leaf in leaves):
            pytest.xfail("; ".join(f"{bug.check}: {bug.reason}" for bug in known))
        raise
    known = pyfuncitem.stash.get(KNOWN_BUGS_KEY, [])
    if known:
        pytest.fail(
            "[XPASS(strict)] recorded service bug(s) no longer reproduce; remove them from "
            "tests/contract/fuzzing.py: " + "; ".join(f"{bug.check}: {bug.reason}" for bug in known)
        )
    return result
