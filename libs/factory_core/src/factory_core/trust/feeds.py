"""Reading another service's feed over HTTP: a GET with the shared service token, JSON back."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from factory_core.runtime.config import PLACEHOLDER, Settings, is_weak_secret

#: The settings that name a feed of auth's; an empty one reads nothing.
FEED_URL_SETTINGS = ("REVOCATION_FEED_URL", "EVENT_FEED_URL")


class FeedReaderSettings(Settings):
    """What every reader of auth's feeds shares: the one secret auth expects on them."""

    #: The shared secret auth expects on its feeds (auth's AUTH_FEED_TOKEN).
    FEED_TOKEN = PLACEHOLDER

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        found = super().problems(config)
        reads_a_feed = any(config.get(name) for name in FEED_URL_SETTINGS)
        if reads_a_feed and is_weak_secret(config, "FEED_TOKEN", 16):
            found.append(
                "FEED_TOKEN must be set to auth's AUTH_FEED_TOKEN (at least 16 characters), "
                "or the feeds' URLs emptied"
            )
        return found


class FeedError(Exception):
    """The feed could not be read, or its answer is not what the contract says."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The service secret goes to the configured URL only, never to where it redirects."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def fetch_json(
    url: str, *, token: str, query: Mapping[str, str], timeout: float, name: str
) -> dict[str, Any]:
    """GET ``url`` with ``query`` and ``Authorization: Bearer <token>``; the JSON object back.
    Every failure (transport, status, a body that is not a JSON object) is a FeedError."""
    request = urllib.request.Request(  # noqa: S310 (the URL is a validated http(s) setting)
        f"{url}?{urllib.parse.urlencode(query)}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            document = json.load(response)
    except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
        raise FeedError(f"cannot read the {name}: {error}") from error
    if not isinstance(document, dict):
        raise FeedError(f"the {name}'s answer is not an object")
    return document


def parse_time(value: Any) -> datetime:
    """An RFC 3339 datetime with a timezone, or a FeedError."""
    if not isinstance(value, str):
        raise FeedError(f"expected an RFC 3339 datetime, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FeedError(f"expected an RFC 3339 datetime, got {value!r}") from None
    if parsed.tzinfo is None:
        raise FeedError(f"datetime without a timezone: {value!r}")
    return parsed
