"""What an app runs besides its requests, and how it all stops.

Extensions that start a background thread (the revocation poller, the event consumer) register
its stop here; :func:`shutdown` stops them all and closes the app's database client. Tests call
it for every app they build; gunicorn calls it as a worker exits.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from factory_core.mongo import EXTENSION_KEY as MONGO_KEY
from factory_core.mongo import mongo

EXTENSION_KEY = "factory_core.lifecycle"


def on_shutdown(app: Flask, stop: Callable[[], None]) -> None:
    """Call ``stop`` when the app shuts down (see :func:`shutdown`)."""
    app.extensions.setdefault(EXTENSION_KEY, []).append(stop)


def shutdown(app: Flask) -> None:
    """Stop the app's background threads, then close its database client."""
    for stop in app.extensions.get(EXTENSION_KEY, ()):
        stop()
    if MONGO_KEY in app.extensions:
        mongo.close(app)
