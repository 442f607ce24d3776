"""Settings of the auth service; every one can be set as AUTH_<NAME> in the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factory_core import Settings


class AuthSettings(Settings):
    SERVICE_NAME = "auth"
    API_TITLE = "Auth API"
    PORT = 5001

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        return super().problems(config)
