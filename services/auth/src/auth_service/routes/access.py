"""Shared pieces of the views: who may ask, and what tokens responses carry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from factory_core import Problem, current_account

#: Responses that carry tokens must not be stored by any cache (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_NO_STORE_WHY = {
    "Cache-Control": "no-store: the body holds tokens (or answers a link's token); no cache "
    "may keep it.",
    "Pragma": "no-cache, for HTTP/1.0 caches.",
}
#: How the operations answering with NO_STORE document it (@blp.response(headers=...)).
NO_STORE_HEADERS = {
    name: {
        "description": _NO_STORE_WHY[name],
        "required": True,
        "schema": {"type": "string", "enum": [value]},
    }
    for name, value in NO_STORE.items()
}

View = TypeVar("View", bound=Callable[..., Any])


def admin_required(view: View) -> View:
    """403 unless the token's account (as stored now, not as in the token) is an admin."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "admin" not in current_account()["roles"]:
            raise Problem(403, "This operation is for administrators.", code="admin_required")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
