"""The one lease primitive (factory_core.data.leases), tested once: what the event consumer, the
mail outbox, idempotent creates and refresh rotation rely on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from tests.support import AppFactory
from tests.support.sample import create_sample

from factory_core import Held, Leases, Problem
from factory_core.data.leases import CLOCK_SKEW

MINUTE = timedelta(minutes=1)


class Clock:
    """A host's clock, which a test moves (and which may differ from another host's)."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def app(make_app: AppFactory) -> Iterator[Flask]:
    app = make_app(create_sample)
    with app.app_context():
        yield app


def _leases(clock: Clock | None = None) -> Leases:
    return Leases("leased", MINUTE, clock=clock or Clock())


def test_a_claim_is_won_once(app: Flask) -> None:
    first = _leases().claim({"_id": "job"})
    assert isinstance(first, Held)
    assert _leases().claim({"_id": "job"}) is None


def test_of_concurrent_takers_exactly_one_wins(app: Flask) -> None:
    _leases().collection.insert_one({"_id": "job", "holder": None})
    barrier = threading.Barrier(8)
    won: list[Held] = []

    def take() -> None:
        with app.app_context():
            barrier.wait()
            held = _leases().take({"_id": "job"})
            if held is not None:
                won.append(held)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_a_held_lease_is_taken_over_only_once_it_has_run_out(app: Flask) -> None:
    held = _leases().claim({"_id": "job"})
    assert held is not None
    later = Clock()
    assert _leases(later).take({"_id": "job"}) is None
    later.offset = MINUTE + CLOCK_SKEW + timedelta(seconds=1)  # the holder died a while ago
    taker = _leases(later).take({"_id": "job"})
    assert taker is not None
    assert taker.holder != held.holder


def test_a_lease_is_not_taken_over_within_the_clocks_skew(app: Flask) -> None:
    """A host whose clock runs ahead (by less than CLOCK_SKEW) must not take a lease its
    holder still counts as live."""
    held = _leases().claim({"_id": "job"})
    assert held is not None
    ahead = Clock(MINUTE + CLOCK_SKEW - timedelta(seconds=1))
    assert _leases(ahead).take({"_id": "job"}) is None


def test_only_the_holder_writes_releases_or_deletes(app: Flask) -> None:
    held = _leases().claim({"_id": "job", "state": "new"})
    assert held is not None
    later = Clock(MINUTE + CLOCK_SKEW + timedelta(seconds=1))
    taker = _leases(later).take({"_id": "job"})
    assert taker is not None
    # The first holder lost its lease: nothing it does changes the document.
    assert not held.update({"$set": {"state": "stale"}})
    assert not held.release({"$set": {"state": "released"}})
    assert not held.delete()
    stored = _leases().collection.find_one({"_id": "job"})
    assert stored is not None
    assert (stored["state"], stored["holder"]) == ("new", taker.holder)
    assert taker.update({"$set": {"state": "done"}})
    assert taker.delete()


def test_a_released_lease_is_free_at_once_and_a_renewed_one_lasts(app: Flask) -> None:
    held = _leases().claim({"_id": "job"})
    assert held is not None
    assert held.release({"$inc": {"attempts": 1}})
    again = _leases().take({"_id": "job"})
    assert again is not None
    assert again.document["attempts"] == 1
    before = again.document["lease_until"]
    assert again.renew()
    stored = _leases().collection.find_one({"_id": "job"})
    assert stored is not None
    assert stored["lease_until"] >= before


def test_a_named_lease_is_created_held_and_renewed_by_the_same_holder(app: Flask) -> None:
    first = _leases().take({"_id": "cursor"}, holder="me", upsert=True, set_on_insert={"n": 0})
    assert first is not None
    assert first.document["n"] == 0
    assert _leases().take({"_id": "cursor"}, holder="you", upsert=True) is None
    assert _leases().take({"_id": "cursor"}, holder="me", upsert=True) is not None


def test_a_waiter_gets_the_result_or_the_lease_of_a_holder_that_is_gone(app: Flask) -> None:
    held = _leases().claim({"_id": "job", "state": "pending"})
    assert held is not None

    def busy() -> Exception:
        return Problem(409, "busy", code="busy")

    def result(document: dict[str, object]) -> object | None:
        return document.get("answer")

    with pytest.raises(Problem):
        _leases().wait("job", result=result, seconds=0.2, busy=busy)
    held.update({"$set": {"answer": 42}})
    assert _leases().wait("job", result=result, seconds=0.2, busy=busy) == 42
    _leases().collection.update_one({"_id": "job"}, {"$unset": {"answer": ""}})
    held.release()
    taken = _leases().wait("job", result=result, seconds=0.2, busy=busy)
    assert isinstance(taken, Held)
    _leases().collection.delete_one({"_id": "job"})
    assert _leases().wait("job", result=result, seconds=0.2, busy=busy) is None
