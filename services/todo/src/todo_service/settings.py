"""Settings of the todo service; every one can be set as TODO_<NAME> in the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factory_core import Settings


class TodoSettings(Settings):
    SERVICE_NAME = "todo"
    API_TITLE = "Todo API"
    PORT = 5002

    @classmethod
    def problems(cls, config: Mapping[str, Any]) -> list[str]:
        return super().problems(config)
