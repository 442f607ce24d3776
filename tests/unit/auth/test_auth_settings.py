"""The production refusals of AuthSettings name each unsafe setting."""

from __future__ import annotations

from typing import Any

from auth_service.settings import AuthSettings
from factory_core import PLACEHOLDER


def defaults() -> dict[str, Any]:
    return {name: getattr(AuthSettings, name) for name in dir(AuthSettings) if name.isupper()}


def test_defaults_are_refused_in_production() -> None:
    problems = "\n".join(AuthSettings.problems(defaults()))
    assert "JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be configured" in problems
    assert "FEED_TOKEN must be set" in problems
    assert AuthSettings.FEED_TOKEN == PLACEHOLDER


def test_a_complete_configuration_passes() -> None:
    config = {
        **defaults(),
        "SECRET_KEY": "s" * 40,
        "JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt.pem",
        "FEED_TOKEN": "f" * 40,
        "MAIL_SERVER": "smtp.example.org",
        "MAIL_SENDER": "no-reply@example.org",
    }
    assert AuthSettings.problems(config) == []
    assert AuthSettings.problems({**config, "RATE_LIMITS_ENABLED": False}) == [
        "RATE_LIMITS_ENABLED must be on in production"
    ]


def test_account_recovery_needs_a_mail_server_and_sender_in_production() -> None:
    config = {
        **defaults(),
        "SECRET_KEY": "s" * 40,
        "JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt.pem",
        "FEED_TOKEN": "f" * 40,
    }
    assert AuthSettings.problems(config) == [
        "MAIL_SERVER must name the SMTP server that delivers the service's mail "
        "(or ACCOUNT_RECOVERY_ENABLED off)",
        "MAIL_SENDER must be set: the From address of the service's mail "
        "(or ACCOUNT_RECOVERY_ENABLED off)",
    ]
    assert AuthSettings.problems({**config, "ACCOUNT_RECOVERY_ENABLED": False}) == []


def test_token_lifetime_defaults() -> None:
    assert AuthSettings.ACCESS_TOKEN_TTL_SECONDS == 15 * 60
    assert AuthSettings.REFRESH_TOKEN_TTL_SECONDS == 30 * 24 * 3600
