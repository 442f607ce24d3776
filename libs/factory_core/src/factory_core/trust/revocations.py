"""auth's revocation feed, polled by one daemon thread per worker process and kept in memory."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from factory_core.runtime.background import PerProcessLoop
from factory_core.trust.feeds import FeedError, fetch_json, parse_time

__all__ = ["OVERLAP", "FeedError", "RevocationFeed", "Revocations"]

logger = logging.getLogger(__name__)

#: The feed is asked again from `now` minus this overlap: items are idempotent, and the overlap
#: covers clock skew between the hosts and revocations written while a page was being read.
OVERLAP = timedelta(seconds=60)
PAGE_LIMIT = 1000
#: One poll reads at most this many pages, then yields the lock and goes on at once: a long
#: catch-up keeps its place (the cursor never moves past an unread item) and stays stale.
MAX_PAGES_PER_POLL = 100
#: A stale process reads the feed for a request at most this often.
ON_DEMAND_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class SubjectCutoff:
    """Every token of a subject below ``version`` (or, without a ``ver`` claim, issued before
    ``not_before``) is revoked, until ``keep_until``."""

    version: int
    not_before: datetime
    keep_until: datetime

    def merged(self, other: SubjectCutoff) -> SubjectCutoff:
        return SubjectCutoff(
            max(self.version, other.version),
            max(self.not_before, other.not_before),
            max(self.keep_until, other.keep_until),
        )


@dataclass
class Revocations:
    """What is revoked right now, each item kept until ``revoked_at + window + OVERLAP`` (or its
    ``expires_at``, if sooner): ``window`` is the longest an access token lives, plus leeway."""

    window: timedelta = timedelta(minutes=16)
    tokens: dict[str, datetime] = field(default_factory=dict)
    families: dict[str, datetime] = field(default_factory=dict)
    subjects: dict[str, SubjectCutoff] = field(default_factory=dict)

    def add(self, item: Mapping[str, Any]) -> None:
        """Record one feed item (items are idempotent; a later cutoff wins)."""
        kind, value = item.get("kind"), item.get("value")
        if not isinstance(value, str) or not value:
            raise FeedError("feed item without a value")
        revoked_at = parse_time(item.get("revoked_at"))
        keep_until = min(parse_time(item.get("expires_at")), revoked_at + self.window + OVERLAP)
        if kind == "token":
            _keep_latest(self.tokens, value, keep_until)
        elif kind == "family":
            _keep_latest(self.families, value, keep_until)
        elif kind == "subject":
            not_before = parse_time(item.get("not_before"))
            version = item.get("version", 0)
            if not isinstance(version, int) or isinstance(version, bool):
                raise FeedError(f"subject version is not an integer: {version!r}")
            self._add_subject(value, SubjectCutoff(version, not_before, keep_until))
        else:
            logger.warning("ignoring revocation of unknown kind %r", kind)

    def _add_subject(self, sub: str, cutoff: SubjectCutoff) -> None:
        known = self.subjects.get(sub)
        self.subjects[sub] = cutoff if known is None else known.merged(cutoff)

    def merge(self, other: Revocations) -> None:
        """Add everything ``other`` revokes."""
        for jti, keep_until in other.tokens.items():
            _keep_latest(self.tokens, jti, keep_until)
        for fid, keep_until in other.families.items():
            _keep_latest(self.families, fid, keep_until)
        for sub, cutoff in other.subjects.items():
            self._add_subject(sub, cutoff)

    def forget_expired(self, now: datetime) -> None:
        """Drop entries that can no longer match a valid token."""
        self.tokens = {k: v for k, v in self.tokens.items() if v > now}
        self.families = {k: v for k, v in self.families.items() if v > now}
        self.subjects = {k: v for k, v in self.subjects.items() if v.keep_until > now}

    def revoke(self, claims: Mapping[str, Any]) -> bool:
        """Whether the token with ``claims`` is revoked."""
        if claims.get("jti") in self.tokens or claims.get("fid") in self.families:
            return True
        cutoff = self.subjects.get(str(claims.get("sub")))
        if cutoff is None:
            return False
        version = claims.get("ver")
        if isinstance(version, int) and not isinstance(version, bool):
            return version < cutoff.version
        # A token from before per-account versions: compare its issue time.
        issued_at = claims.get("iat")
        return isinstance(issued_at, int | float) and issued_at < cutoff.not_before.timestamp()


class RevocationFeed(PerProcessLoop):
    """Reads the feed every ``poll_seconds`` in a thread of each process; a stale process also
    reads it in the request that needs it (at most once a second), before refusing it."""

    thread_name = "revocation-feed"

    def __init__(
        self,
        url: str,
        *,
        token: str,
        poll_seconds: float,
        max_staleness_seconds: float,
        timeout: float,
        window: timedelta,
    ) -> None:
        self.url = url
        self.token = token
        self.poll_seconds = poll_seconds
        self.max_staleness_seconds = max_staleness_seconds
        self.timeout = timeout
        #: The longest an access token lives, plus leeway: older revocations cannot matter.
        self.window = window
        super().__init__()

    def reset(self) -> None:
        self.revocations = Revocations(window=self.window)
        self._since: datetime | None = None
        self._last_success: float | None = None
        self._last_attempt = -math.inf
        self._reading = threading.Lock()  # one read at a time: the poller's or a request's

    def read_now(self) -> None:
        """A worker's warm-up: read the feed before its first request."""
        self._read(not_within=0.0)

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether the token is revoked; raise FeedError when the feed is too stale to tell."""
        self.ensure_fresh()
        with self._lock:
            return self.revocations.revoke(claims)

    def ensure_fresh(self) -> None:
        """Read the feed now if this process's copy is stale; FeedError if it stays stale."""
        if self.is_stale():
            self._read(not_within=ON_DEMAND_INTERVAL_SECONDS)
            if self.is_stale():
                raise FeedError("the revocation feed has not been read recently")

    def describe(self) -> str:
        """/readyz's line for this process's copy; FeedError while it is stale."""
        self.ensure_fresh()
        if self._last_success is None:
            return "not read (staleness unchecked)"
        return f"read {time.monotonic() - self._last_success:.0f} s ago"

    def is_stale(self) -> bool:
        if self.max_staleness_seconds <= 0:
            return False
        if self._last_success is None:
            return True
        return time.monotonic() - self._last_success > self.max_staleness_seconds

    def round(self) -> float:
        """One poll when due (a request may have read meanwhile); at once again while the
        feed has more, else after ``poll_seconds``."""
        wait = self._last_attempt + self.poll_seconds - time.monotonic()
        if wait > 0:
            return wait
        return 0 if self._read(not_within=0.0) is False else self.poll_seconds

    def _read(self, *, not_within: float) -> bool | None:
        """Read the feed in this thread unless another read ended less than ``not_within``
        seconds ago: whether it was read to its end; None if it failed or was skipped."""
        if not self._reading.acquire(timeout=self.timeout + 0.5):
            return None
        try:
            if time.monotonic() - self._last_attempt < not_within:
                return None
            try:
                return self.poll()
            except FeedError as error:
                # Before a first read (the issuer is starting too, say): not yet a problem.
                log = logger.warning if self._last_success is not None else logger.debug
                log("revocation feed: %s", error)
            except Exception:  # the poller must survive anything a broken feed sends
                logger.exception("revocation feed: unexpected answer")
            finally:
                self._last_attempt = time.monotonic()
            return None
        finally:
            self._reading.release()

    def poll(self) -> bool:
        """Read pages from the cursor on (never past an unread item), merging each; whether the
        feed was read to its end (only then is this process's copy fresh)."""
        for _ in range(MAX_PAGES_PER_POLL):
            # A worker's first read starts where revocations can still matter.
            since = self._since or datetime.now(UTC) - self.window - OVERLAP
            page = self._fetch(since)
            server_now = parse_time(page.get("now"))
            items = page.get("items")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise FeedError("feed answer without a list of item objects")
            fresh = Revocations(window=self.window)
            for item in items:
                fresh.add(item)
            more = bool(page.get("has_more")) and bool(items)
            last = parse_time(items[-1].get("revoked_at")) if more else server_now
            if more and last <= since:
                raise FeedError("the feed's has_more makes no progress")
            with self._lock:
                self.revocations.merge(fresh)
                self.revocations.forget_expired(server_now)
                self._since = last if more else server_now - OVERLAP
                if not more:
                    self._last_success = time.monotonic()
            if not more:
                return True
        logger.warning("revocation feed: still catching up after %d pages", MAX_PAGES_PER_POLL)
        return False

    def _fetch(self, since: datetime) -> dict[str, Any]:
        query = {
            "limit": str(PAGE_LIMIT),
            "since": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        return fetch_json(
            self.url, token=self.token, query=query, timeout=self.timeout, name="revocation feed"
        )


def _keep_latest(entries: dict[str, datetime], key: str, expires_at: datetime) -> None:
    entries[key] = max(expires_at, entries.get(key, expires_at))
