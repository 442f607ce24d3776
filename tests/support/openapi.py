"""Reading a published OpenAPI document in tests: its operations, what a $ref points to, and
the parts a deployment sets."""

from __future__ import annotations

from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation of ``spec``."""
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or what its (chain of) local $ref points to."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def deployment_urls(spec: dict[str, Any]) -> tuple[str, str]:
    """Take out of ``spec`` what a deployment sets (PUBLIC_URL, its one server; TOKEN_URL, where
    Authorize logs in) and return them: the rest is the same everywhere."""
    (server,) = spec.pop("servers")
    (flow,) = spec["components"]["securitySchemes"]["oauth2Password"]["flows"].values()
    return server["url"], flow.pop("tokenUrl")
