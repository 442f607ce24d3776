"""Production refuses to start without real keys and a real revocation feed secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from factory_core import PLACEHOLDER, ConfigurationError
from todo_service import create_app
from todo_service.settings import TodoSettings

SAFE = {
    "ENV": "production",
    "SECRET_KEY": "s" * 40,
    "FEED_TOKEN": "f" * 32,
}


def _problems(**overrides: Any) -> list[str]:
    config = {k: getattr(TodoSettings, k) for k in dir(TodoSettings) if k.isupper()}
    return TodoSettings.problems({**config, **SAFE, **overrides})


def test_a_safe_production_config_has_no_problems() -> None:
    assert _problems() == []


WEAK = (
    "FEED_TOKEN must be set to auth's AUTH_FEED_TOKEN (at least 16 characters), or the feeds' "
    "URLs emptied"
)


@pytest.mark.parametrize(
    "feeds",
    [{}, {"REVOCATION_FEED_URL": ""}, {"EVENT_FEED_URL": ""}],
)
def test_the_placeholder_feed_token_is_refused_once_while_a_feed_is_read(
    feeds: dict[str, str],
) -> None:
    assert _problems(FEED_TOKEN=PLACEHOLDER, **feeds) == [WEAK]


def test_no_feed_needs_no_token() -> None:
    assert _problems(REVOCATION_FEED_URL="", EVENT_FEED_URL="", FEED_TOKEN=PLACEHOLDER) == []


@pytest.mark.parametrize("url", ["", PLACEHOLDER, "file:///etc/jwks.json", "http://", "jwks"])
def test_keys_must_come_from_an_http_url_or_a_file(url: str) -> None:
    assert _problems(JWKS_URL=url) == ["JWKS_URL (an http(s) URL) or JWKS_FILE must be configured"]


def test_a_missing_jwks_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert _problems(JWKS_FILE=str(missing)) == [f"JWKS_FILE {str(missing)!r} does not exist"]
    missing.write_text('{"keys": []}')
    assert _problems(JWKS_FILE=str(missing), JWKS_URL="") == []


def test_create_app_refuses_and_names_the_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as error:
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    message = str(error.value)
    assert "SECRET_KEY" in message
    assert "FEED_TOKEN" in message
    assert "TODO_<SETTING>" in message


def test_development_accepts_the_placeholders(tmp_path: Path) -> None:
    app = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["FEED_TOKEN"] == PLACEHOLDER
    assert app.config["REVOCATION_POLL_SECONDS"] == 5.0
    assert app.config["REVOCATION_MAX_STALENESS_SECONDS"] == 30.0
