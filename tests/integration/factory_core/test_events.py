"""The durable event consumer: in order, at least once, one holder at a time, resumable, lag shown.

Rounds are driven by Consumer.step() (what each worker's thread calls in a loop; the threads
are stopped here), so that each test decides when a consumer looks at the feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from pymongo import MongoClient
from tests.support import AppFactory
from tests.support.sample import SampleSettings
from tests.support.tokens import IssuerServer, TokenIssuer
from tests.support.waiting import wait_until

from factory_core import EventConsumerSettings, build_app, event_consumer
from factory_core.trust.events import CONSUMERS, Consumer
from factory_core.trust.feeds import FeedError


class ConsumerSettings(SampleSettings, EventConsumerSettings):
    pass


class Recorder:
    """A handler that records what it was given, and can be told to fail."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.failures_left = 0

    def __call__(self, event: Mapping[str, Any]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("the handler's database is down")
        self.seen.append(event["subject"])


def _consuming_app(
    make_app: AppFactory,
    handlers: dict[str, Any],
    repeat_after: Mapping[str, timedelta] | None = None,
    **overrides: Any,
) -> Flask:
    """A service with no routes of its own that consumes the feed with ``handlers``."""

    def setup(app: Flask, _api: Any) -> None:
        event_consumer.init_app(app, handlers=handlers, repeat_after=repeat_after)

    return make_app(
        lambda config: build_app(
            __name__,
            settings=ConsumerSettings,
            env_prefix="SAMPLE",
            blueprints=[],
            overrides=config,
            setup=setup,
        ),
        **overrides,
    )


@pytest.fixture
def feed() -> Iterator[IssuerServer]:
    with IssuerServer(TokenIssuer(), feed_token="feed-token-of-the-test") as server:
        yield server


@pytest.fixture
def make_consumer(
    make_app: AppFactory, feed: IssuerServer
) -> Callable[..., tuple[Flask, Consumer, Recorder]]:
    def make(**overrides: Any) -> tuple[Flask, Consumer, Recorder]:
        recorder = Recorder()

        app = _consuming_app(
            make_app,
            {"account.deleted": recorder},
            **{"EVENT_FEED_URL": feed.events_url, "FEED_TOKEN": feed.feed_token, **overrides},
        )
        consumer = event_consumer.consumer(app)
        assert consumer is not None
        # No thread of its own: the test drives every round with step().
        consumer.stop()
        return app, consumer, recorder

    return make


def _state(mongo_client: MongoClient[Any], app: Flask) -> dict[str, Any]:
    found: dict[str, Any] = mongo_client[app.config["MONGO_DB_NAME"]][CONSUMERS].find_one() or {}
    return found


def _lease_runs_out(mongo_client: MongoClient[Any], app: Flask) -> None:
    """Wind the consumer's lease on: it ran out (beyond the clock skew) and is free to take."""
    mongo_client[app.config["MONGO_DB_NAME"]][CONSUMERS].update_one(
        {}, {"$set": {"lease_until": datetime.now(UTC) - timedelta(seconds=5)}}
    )


def test_events_are_handled_in_order_and_the_cursor_is_stored(
    make_consumer: Callable[..., Any], feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    for user in ("u1", "u2", "u3"):
        feed.publish("account.deleted", user)
    feed.publish("account.renamed", "u4")  # a type without a handler: passed over
    app, consumer, recorder = make_consumer()
    assert consumer.step() == consumer.poll_seconds
    assert recorder.seen == ["u1", "u2", "u3"]
    state = _state(mongo_client, app)
    assert (state["cursor"], state["head"]) == (4, 4)

    # A new consumer of the same service (a restart, another worker) resumes from there.
    consumer.stop()
    _lease_runs_out(mongo_client, app)
    feed.publish("account.deleted", "u5")
    again, recorder_again = _reopen(make_consumer, app)
    again.step()
    assert recorder_again.seen == ["u5"]


def test_an_event_type_is_handled_again_once_its_repeat_is_due(
    make_app: AppFactory, feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    """Erasing a deleted account again once its tokens can no longer be accepted (the third
    audit's race): the repeat is stored with the cursor, so a restart does not lose it."""
    feed.publish("account.deleted", "u1")
    feed.publish("account.renamed", "u2")  # no repeat for this type
    recorder = Recorder()
    config = {"EVENT_FEED_URL": feed.events_url, "FEED_TOKEN": feed.feed_token}
    app = _consuming_app(
        make_app,
        {"account.deleted": recorder, "account.renamed": recorder},
        repeat_after={"account.deleted": timedelta(seconds=1)},
        **config,
    )
    consumer = event_consumer.consumer(app)
    assert consumer is not None
    consumer.stop()
    consumer.step()
    assert recorder.seen == ["u1", "u2"]
    [repeat] = _state(mongo_client, app)["repeats"]
    assert (repeat["event"]["subject"], repeat["event"]["type"]) == ("u1", "account.deleted")
    consumer.step()
    assert recorder.seen == ["u1", "u2"]  # not due yet

    # Another worker (a restart) takes over, and handles the repeat once it is due.
    _lease_runs_out(mongo_client, app)
    again = Recorder()
    other = _consuming_app(
        make_app,
        {"account.deleted": again, "account.renamed": again},
        repeat_after={"account.deleted": timedelta(seconds=1)},
        MONGO_DB_NAME=app.config["MONGO_DB_NAME"],
        **config,
    )
    taker = event_consumer.consumer(other)
    assert taker is not None
    taker.stop()
    time.sleep(1.1)
    taker.step()
    assert again.seen == ["u1"]
    assert _state(mongo_client, app)["repeats"] == []
    taker.step()
    assert again.seen == ["u1"]  # once


def test_an_event_handled_after_its_repeat_was_due_is_not_repeated(
    make_app: AppFactory, feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    feed.publish("account.deleted", "u1", occurred_at=datetime.now(UTC) - timedelta(minutes=5))
    recorder = Recorder()
    app = _consuming_app(
        make_app,
        {"account.deleted": recorder},
        repeat_after={"account.deleted": timedelta(minutes=1)},
        EVENT_FEED_URL=feed.events_url,
        FEED_TOKEN=feed.feed_token,
    )
    consumer = event_consumer.consumer(app)
    assert consumer is not None
    consumer.stop()
    consumer.step()
    assert recorder.seen == ["u1"]
    assert _state(mongo_client, app).get("repeats", []) == []


def _reopen(make_consumer: Callable[..., Any], app: Flask) -> tuple[Consumer, Recorder]:
    _app, consumer, recorder = make_consumer(MONGO_DB_NAME=app.config["MONGO_DB_NAME"])
    return consumer, recorder


def _retry_due(mongo_client: MongoClient[Any], app: Flask) -> None:
    """Wind the consumer's backoff on: its next retry is due now."""
    mongo_client[app.config["MONGO_DB_NAME"]][CONSUMERS].update_one(
        {"retry_at": {"$exists": True}}, {"$set": {"retry_at": datetime.now(UTC)}}
    )


def test_a_failing_handler_is_retried_with_backoff_and_the_cursor_waits(
    make_consumer: Callable[..., Any], feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    feed.publish("account.deleted", "u1")
    feed.publish("account.deleted", "u2")
    app, consumer, recorder = make_consumer()
    recorder.failures_left = 3
    delays = []
    for _ in range(3):
        delays.append(consumer.step())
        assert 0 < consumer.step() <= delays[-1]  # before the retry is due: not retried
        _retry_due(mongo_client, app)
    assert delays == [1.0, 2.0, 4.0]  # doubling backoff
    assert recorder.failures_left == 0
    assert recorder.seen == []
    assert _state(mongo_client, app)["cursor"] == 0  # nothing skipped
    consumer.step()
    assert recorder.seen == ["u1", "u2"]
    assert _state(mongo_client, app)["cursor"] == 2


def test_the_backoff_holds_for_whoever_holds_the_lease_next(
    make_consumer: Callable[..., Any], feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    # The holder backs off longer than its lease lasts: another worker takes the lease over.
    # It must wait out the backoff too, and go on doubling it: not retry at once.
    app, first, first_handler = make_consumer(EVENT_LEASE_SECONDS=1)
    second, second_handler = _reopen(make_consumer, app)
    feed.publish("account.deleted", "u1")
    first_handler.failures_left = second_handler.failures_left = 10
    assert first.step() == 1.0
    _lease_runs_out(mongo_client, app)
    assert 0 < second.step() <= 1.0
    assert second_handler.failures_left == 10  # not called: the backoff is not over
    _retry_due(mongo_client, app)
    assert second.step() == 2.0  # the second failure in a row, whoever had the first
    assert second_handler.failures_left == 9
    assert _state(mongo_client, app)["holder"] == second.holder


def test_one_consumer_holds_the_lease_until_it_runs_out(
    make_consumer: Callable[..., Any], feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    app, first, first_seen = make_consumer(EVENT_LEASE_SECONDS=30)
    second, second_seen = _reopen(make_consumer, app)
    feed.publish("account.deleted", "u1")
    first.step()
    second.step()
    assert (first_seen.seen, second_seen.seen) == (["u1"], [])
    assert _state(mongo_client, app)["holder"] == first.holder
    # The holder dies: its lease runs out, and the other takes over where it stopped.
    first.stop()
    feed.publish("account.deleted", "u2")
    _lease_runs_out(mongo_client, app)
    second.step()
    assert second_seen.seen == ["u2"]
    assert _state(mongo_client, app)["holder"] == second.holder


def test_the_lag_is_in_readyz_and_metrics_without_failing_readiness(
    make_consumer: Callable[..., Any], feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    app, consumer, recorder = make_consumer()
    client = app.test_client()
    assert client.get("/readyz").get_json()["checks"]["events"] == "not read yet"
    feed.publish("account.deleted", "u1")
    feed.publish("account.deleted", "u2")
    recorder.failures_left = 1
    consumer.step()  # reads the feed, fails on the first event
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["events"].startswith("2 events behind (")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'event_consumer_lag_events{{feed="{feed.events_url}"}} 2.0' in metrics
    _retry_due(mongo_client, app)
    consumer.step()
    assert client.get("/readyz").get_json()["checks"]["events"] == "up to date"
    assert f'event_consumer_lag_events{{feed="{feed.events_url}"}} 0.0' in client.get(
        "/metrics"
    ).get_data(as_text=True)


def test_a_feed_that_refuses_the_token_changes_nothing(
    make_consumer: Callable[..., Any], feed: IssuerServer, mongo_client: MongoClient[Any]
) -> None:
    feed.publish("account.deleted", "u1")
    app, consumer, recorder = make_consumer(FEED_TOKEN="not-the-feed-token")
    with pytest.raises(Exception, match="event feed"):
        consumer.step()
    assert recorder.seen == []
    assert _state(mongo_client, app)["cursor"] == 0


def test_production_refuses_a_placeholder_feed_token() -> None:
    problems = ConsumerSettings.problems(
        {"SECRET_KEY": "s" * 40, "JWT_ALGORITHM": "ES256", "EVENT_FEED_URL": "http://a/x"}
    )
    assert any("FEED_TOKEN" in problem for problem in problems)


def _event(sequence: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "id": f"e{sequence}",
        "type": "account.deleted",
        "subject": f"u{sequence}",
        "occurred_at": "2026-11-27T10:00:00+00:00",
        **overrides,
    }


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"events": "none"},
        {"events": ["u1"]},
        {"events": [_event("1")]},
        {"events": [_event(1, type=None)]},
        {"events": [_event(1, id=7)]},
        {"events": [_event(1, occurred_at="yesterday")]},
        {"events": [_event(1, occurred_at="2026-11-27T10:00:00")]},
        {"events": [_event(2), _event(1)]},
        {"events": [_event(1), _event(1)]},
    ],
    ids=[
        "not-an-object",
        "events-not-a-list",
        "event-not-an-object",
        "sequence-not-an-int",
        "no-type",
        "id-not-a-string",
        "time-not-rfc3339",
        "time-without-zone",
        "out-of-order",
        "repeated",
    ],
)
def test_a_page_against_the_contract_is_refused_whole(
    answer: Any,
    make_consumer: Callable[..., Any],
    feed: IssuerServer,
    mongo_client: MongoClient[Any],
) -> None:
    feed.publish("account.deleted", "u1")
    app, consumer, recorder = make_consumer()
    feed.events_answer = answer
    with pytest.raises(FeedError):
        consumer.step()
    assert recorder.seen == []  # not even the well-formed events of the page
    assert _state(mongo_client, app)["cursor"] == 0


def test_events_that_expired_unread_are_reported(
    make_consumer: Callable[..., Any], feed: IssuerServer, caplog: pytest.LogCaptureFixture
) -> None:
    _app, consumer, recorder = make_consumer()
    feed.events_answer = {"events": [_event(5)], "head": 5, "oldest": 5, "has_more": False}
    consumer.step()
    assert recorder.seen == ["u5"]
    assert "events 1 to 4 expired before this service read them" in caplog.text


def test_the_thread_consumes_on_its_own_and_outlives_a_broken_feed(
    make_consumer: Callable[..., Any], feed: IssuerServer
) -> None:
    _app, consumer, recorder = make_consumer(EVENT_POLL_SECONDS=0.05)
    consumer._in_this_process()  # undo the fixture's stop: this test wants the real thread
    feed.events_answer = {"events": "broken"}
    consumer.ensure_started()
    thread = consumer._thread
    assert thread is not None
    feed.publish("account.deleted", "u1")
    time.sleep(0.3)  # several rounds against the broken feed
    assert thread.is_alive()
    assert recorder.seen == []
    feed.events_answer = None
    wait_until(lambda: recorder.seen == ["u1"], within=5, interval=0.02)
    consumer.stop()
    assert not thread.is_alive()  # stop() waits for the round in progress


def test_a_service_without_a_feed_has_no_consumer(make_app: AppFactory) -> None:
    app = _consuming_app(make_app, {}, EVENT_FEED_URL="")
    assert event_consumer.consumer(app) is None
    assert "events" not in app.test_client().get("/readyz").get_json()["checks"]
