"""The one check of an error answer: an RFC 9457 problem document in the shared shape."""

from __future__ import annotations

from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """``response`` (Flask's test client's, or requests') is a problem with ``status`` (and
    ``code``): its body, to assert on further."""
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    assert response.status_code == status, (response.status_code, text[:500])
    assert response.headers["Content-Type"].startswith(PROBLEM_CONTENT_TYPE), response.headers
    body: dict[str, Any] = response.get_json() if hasattr(response, "get_json") else response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    if code is not None:
        assert body["code"] == code, body
    return body
