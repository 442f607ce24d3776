"""A durable consumer of another service's event feed (auth's account events): in order, at
least once, by one lease holder across workers and replicas (docs/services/auth.md)."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import Flask, current_app
from pymongo.errors import PyMongoError

from factory_core.data.leases import Held, Leases
from factory_core.data.mongo import mongo
from factory_core.runtime.background import PerProcessLoop
from factory_core.runtime.lifecycle import keep_running
from factory_core.runtime.observability import add_metrics_source
from factory_core.trust.feeds import FeedError, FeedReaderSettings, fetch_json, parse_time
from factory_core.web.health import add_readiness_check

logger = logging.getLogger(__name__)

EXTENSION_KEY = "factory_core.events"
#: One document per feed this service consumes: cursor, lease, what the feed said last.
CONSUMERS = "event_consumers"
PAGE_LIMIT = 100

Event = Mapping[str, Any]
Handler = Callable[[Event], None]


class EventConsumerSettings(FeedReaderSettings):
    """Settings of a service that consumes the issuer's (auth's) account events."""

    #: auth's event feed; empty: this service consumes no events.
    EVENT_FEED_URL = "http://127.0.0.1:5001/auth/events"
    #: How often the consumer asks for new events (the erasure bound, while all is up).
    EVENT_POLL_SECONDS = 2.0
    #: How long a consumer's lease lasts without renewal: after its holder dies, another
    #: worker or replica takes over within this.
    EVENT_LEASE_SECONDS = 10.0
    #: Timeout of one feed request.
    EVENT_TIMEOUT_SECONDS = 2.0
    #: The longest wait between retries of a failing handler (the backoff doubles up to it).
    EVENT_RETRY_MAX_SECONDS = 60.0


class Consumer(PerProcessLoop):
    """The consumer of one app: its polling thread (one per process), lease and cursor."""

    thread_name = "event-consumer"

    def __init__(
        self, app: Flask, handlers: Mapping[str, Handler], repeat_after: Mapping[str, timedelta]
    ) -> None:
        config = app.config
        self.app = app
        self.handlers = dict(handlers)
        self.repeat_after = dict(repeat_after)
        self.name = self.url = str(config["EVENT_FEED_URL"])
        self.token = str(config["FEED_TOKEN"])
        self.poll_seconds = float(config["EVENT_POLL_SECONDS"])
        self.timeout = float(config["EVENT_TIMEOUT_SECONDS"])
        self.retry_max_seconds = float(config["EVENT_RETRY_MAX_SECONDS"])
        self.leases = Leases(CONSUMERS, timedelta(seconds=float(config["EVENT_LEASE_SECONDS"])))
        super().__init__()

    def reset(self) -> None:
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._answered = False  # whether the feed has answered this process yet

    def round(self) -> float:
        try:
            return self.step()
        except (FeedError, PyMongoError) as error:
            # Before the feed first answered (the issuer is starting too, say): not a problem yet.
            (logger.warning if self._answered else logger.debug)("event feed: %s", error)
        except Exception:  # the consumer must survive anything a broken feed sends
            logger.exception("event feed: unexpected failure")
        return self.poll_seconds

    def step(self) -> float:
        """One round: hold the lease, read a page, handle it; seconds until the next round."""
        with self.app.app_context():
            # The lease (taken, or renewed): one consumer at a time across workers and replicas.
            held = self.leases.take(
                {"_id": self.name}, holder=self.holder, upsert=True, set_on_insert={"cursor": 0}
            )
            if held is None:
                return self.poll_seconds
            # A handler's backoff is the consumer's, stored with the lease: whoever holds it
            # next waits it out too, and the doubling goes on from there.
            failures = int(held.document.get("failures", 0))
            now = datetime.now(UTC)
            retry_at = held.document.get("retry_at")
            if retry_at is not None and retry_at > now:
                return min(self.poll_seconds, float((retry_at - now).total_seconds()))
            try:
                self._run_due_repeats(held)
                more = self._consume_page(held)
            except _HandlerFailedError as failed:
                failures += 1
                delay = min(self.retry_max_seconds, 2.0 ** min(failures - 1, 30))
                retry_at = now + timedelta(seconds=delay)
                held.update({"$set": {"failures": failures, "retry_at": retry_at}})
                logger.warning(
                    "event %s (%s): handler failed (attempt %d), retrying in %.0f s: %s",
                    failed.event.get("id"),
                    failed.event.get("type"),
                    failures,
                    delay,
                    failed.error,
                )
                return delay
            if failures:
                held.update({"$unset": {"failures": "", "retry_at": ""}})
            return 0.0 if more else self.poll_seconds

    def _consume_page(self, held: Held) -> bool:
        """Handle the next page of events in order; whether the feed has more right away."""
        cursor = int(held.document.get("cursor", 0))
        page = fetch_json(
            self.url,
            token=self.token,
            query={"after": str(cursor), "limit": str(PAGE_LIMIT)},
            timeout=self.timeout,
            name="event feed",
        )
        events = list(_events(page))
        self._answered = True
        head = page.get("head")
        held.update(
            {
                "$set": {
                    "head": head if isinstance(head, int) else cursor,
                    "read_at": datetime.now(UTC),
                    "pending_since": parse_time(events[0]["occurred_at"]) if events else None,
                }
            }
        )
        oldest = page.get("oldest")
        if isinstance(oldest, int) and cursor + 1 < oldest:
            logger.error(
                "event feed: events %d to %d expired before this service read them",
                cursor + 1,
                oldest - 1,
            )
        for event in events:
            handler = self.handlers.get(str(event["type"]))
            if handler is not None:
                try:
                    handler(event)
                except Exception as error:  # retried: the cursor stays before this event
                    raise _HandlerFailedError(event, error) from error
            if not self._advance(held, int(event["sequence"]), event):
                return False  # the lease was lost meanwhile: the new holder goes on
        return bool(page.get("has_more")) and bool(events)

    def _advance(self, held: Held, sequence: int, event: Event) -> bool:
        """Move the cursor past ``event`` (renewing the lease); False if the lease was lost."""
        occurred_at = parse_time(event["occurred_at"])
        update: dict[str, Any] = {
            "$max": {"cursor": sequence},
            "$set": {"last_event_at": occurred_at},
        }
        repeat = self.repeat_after.get(str(event["type"]))
        if repeat is not None and occurred_at + repeat > datetime.now(UTC):
            update["$push"] = {"repeats": {"event": dict(event), "due_at": occurred_at + repeat}}
        return held.update(update)

    def _run_due_repeats(self, held: Held) -> None:
        """Handle again the events whose repeat is due, each then removed from the list."""
        now = datetime.now(UTC)
        for repeat in held.document.get("repeats", []):
            if repeat["due_at"] > now:
                continue
            event = repeat["event"]
            try:
                self.handlers[str(event["type"])](event)
            except Exception as error:  # retried like a first handling, later
                raise _HandlerFailedError(event, error) from error
            held.update({"$pull": {"repeats": {"event.id": event["id"]}}})

    def lag(self) -> tuple[int, float] | None:
        """(events, seconds) this service is behind the feed, as its consumer last saw it (seconds:
        the age of the oldest event not handled yet); None before any read."""
        with self.app.app_context():
            state = mongo.collection(CONSUMERS).find_one({"_id": self.name})
        if state is None or "read_at" not in state:
            return None
        behind = max(0, int(state.get("head", 0)) - int(state.get("cursor", 0)))
        pending_since = state.get("pending_since")
        seconds = (
            (datetime.now(UTC) - pending_since).total_seconds() if behind and pending_since else 0.0
        )
        return behind, max(0.0, seconds)


class _HandlerFailedError(Exception):
    def __init__(self, event: Event, error: Exception) -> None:
        super().__init__(str(error))
        self.event = event
        self.error = error


def _events(page: Mapping[str, Any]) -> Iterator[Event]:
    events = page.get("events")
    if not isinstance(events, list):
        raise FeedError("event feed answer without a list of events")
    previous = None
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("sequence"), int):
            raise FeedError("an event without a sequence")
        if not isinstance(event.get("type"), str) or not isinstance(event.get("id"), str):
            raise FeedError("an event without an id or a type")
        parse_time(event.get("occurred_at"))
        if previous is not None and event["sequence"] <= previous:
            raise FeedError("events out of order")
        previous = event["sequence"]
        yield event


def _describe_lag(consumer: Consumer) -> str:
    lag = consumer.lag()
    if lag is None:
        return "not read yet"
    behind, seconds = lag
    return f"{behind} events behind ({seconds:.1f} s)" if behind else "up to date"


def _lag_metrics(consumer: Consumer) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415 (see observability)

    lag = consumer.lag()
    behind, seconds = lag if lag is not None else (0, 0.0)
    events_metric = GaugeMetricFamily(
        "event_consumer_lag_events", "Events of the feed not handled yet.", labels=["feed"]
    )
    events_metric.add_metric([consumer.name], behind)
    seconds_metric = GaugeMetricFamily(
        "event_consumer_lag_seconds",
        "Age of the oldest event not handled yet (0 when up to date).",
        labels=["feed"],
    )
    seconds_metric.add_metric([consumer.name], seconds)
    return [events_metric, seconds_metric]


class EventConsumer:
    """Flask extension: consume the event feed named by the settings, one handler per type."""

    def init_app(
        self,
        app: Flask,
        *,
        handlers: Mapping[str, Handler],
        repeat_after: Mapping[str, timedelta] | None = None,
    ) -> None:
        """Consume the feed with ``handlers`` (one per event type); the types in
        ``repeat_after`` are handled again once that long has passed since they occurred."""
        config = app.config
        if not config.get("EVENT_FEED_URL"):
            app.extensions[EXTENSION_KEY] = None
            return
        consumer = Consumer(app, handlers, repeat_after or {})
        app.extensions[EXTENSION_KEY] = consumer
        # Started as each gunicorn worker boots, so that events are consumed with no traffic
        # at all (else with a process's first request: runtime.lifecycle).
        keep_running(app, consumer)
        add_readiness_check(app, "events", lambda: _describe_lag(consumer))
        add_metrics_source(app, lambda: _lag_metrics(consumer))

    @staticmethod
    def consumer(app: Flask | None = None) -> Consumer | None:
        return cast(Consumer | None, (app or current_app).extensions.get(EXTENSION_KEY))


event_consumer = EventConsumer()
