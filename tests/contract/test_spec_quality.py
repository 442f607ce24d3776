"""The published specs make good generated clients: every operation named, each token its own
security scheme, every header the services send declared, request schemas without defaults a
generator would read as "always present", and an error shape open to new members."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tests.support.openapi import operations, resolve
from tools.contract.openapi_spec import SERVICES, Service

#: Operations anyone may call (no token): each says so with `security: []`.
PUBLIC = {
    "auth": {
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/auth/email/verify"),
        ("POST", "/auth/login"),
        ("POST", "/auth/login/mfa"),
        ("POST", "/auth/password-reset"),
        ("GET", "/auth/password-reset/confirm"),
        ("POST", "/auth/password-reset/confirm"),
        ("POST", "/auth/register"),
        ("POST", "/auth/token"),
        ("GET", "/livez"),
        ("GET", "/readyz"),
    },
    "todo": {("GET", "/livez"), ("GET", "/readyz")},
}
#: Where each kind of token goes (every other operation takes an access token).
REFRESH = {"auth": {("POST", "/auth/refresh")}, "todo": set()}
FEED = {"auth": {("GET", "/auth/revocations"), ("GET", "/auth/events")}, "todo": set()}
ACCESS_SCHEME, REFRESH_SCHEME, FEED_SCHEME = "bearerAuth", "refreshToken", "feedToken"
#: The access token again, from a login at auth's token endpoint (Swagger UI's Authorize).
PASSWORD_SCHEME = "oauth2Password"
ACCESS = [{ACCESS_SCHEME: []}, {PASSWORD_SCHEME: []}]
#: Operations whose successful responses carry tokens (Cache-Control: no-store).
TOKEN_RESPONSES = {
    "auth": {
        ("POST", "/auth/login"),
        ("POST", "/auth/token"),
        ("POST", "/auth/refresh"),
        ("GET", "/auth/email/verify"),
        ("GET", "/auth/password-reset/confirm"),
    },
    "todo": set(),
}

services = pytest.mark.parametrize("service", list(SERVICES.values()), ids=list(SERVICES))


def committed(service: Service) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(service.spec_path.read_text())
    return spec


def response_headers(spec: dict[str, Any], operation: dict[str, Any], status: str) -> set[str]:
    response = resolve(spec, operation["responses"][status])
    return {name.lower() for name in response.get("headers", {})}


def test_both_services_are_walked() -> None:
    assert set(SERVICES) >= {"auth", "todo"}
    assert sum(len(operations(committed(SERVICES[name]))) for name in ("auth", "todo")) >= 28


@services
def test_every_operation_has_a_unique_operation_id(service: Service) -> None:
    spec = committed(service)
    ids = [operation.get("operationId") for *_, operation in operations(spec)]
    missing = [(m, p) for m, p, operation in operations(spec) if not operation.get("operationId")]
    assert not missing, f"operations without an operationId: {missing}"
    assert len(ids) == len(set(ids)), f"duplicate operationIds: {sorted(ids)}"
    for operation_id in ids:
        # lowerCamelCase: a method name in every generator's language.
        assert re.fullmatch(r"[a-z][A-Za-z0-9]*", operation_id), operation_id


def test_operation_ids_are_unique_across_services_but_the_probes() -> None:
    seen: dict[str, str] = {}
    for name in ("auth", "todo"):
        for _, path, operation in operations(committed(SERVICES[name])):
            if path in ("/livez", "/readyz"):
                continue
            assert operation["operationId"] not in seen, (name, operation["operationId"])
            seen[operation["operationId"]] = name


@services
def test_each_token_has_its_own_scheme_on_the_right_operations(service: Service) -> None:
    spec = committed(service)
    schemes = spec["components"]["securitySchemes"]
    assert schemes[ACCESS_SCHEME]["bearerFormat"] == "JWT"
    (flow,) = schemes[PASSWORD_SCHEME]["flows"].values()
    assert flow["tokenUrl"].endswith("/auth/token")
    assert spec["security"] == ACCESS
    for method, path, operation in operations(spec):
        key = (method, path)
        assert "security" in operation, f"{key} inherits its security: say it"
        if key in PUBLIC[service.name]:
            expected: list[dict[str, list[str]]] = []
        elif key in REFRESH[service.name]:
            expected = [{REFRESH_SCHEME: []}]
        elif key in FEED[service.name]:
            expected = [{FEED_SCHEME: []}]
        else:
            expected = ACCESS
        assert operation["security"] == expected, key
        for requirement in operation["security"]:
            assert set(requirement) <= set(schemes), key
    used = {name for *_, op in operations(spec) for req in op["security"] for name in req}
    assert set(schemes) == used, "a declared scheme no operation uses"
    if REFRESH[service.name]:
        assert schemes[REFRESH_SCHEME]["scheme"] == "bearer"
        assert schemes[REFRESH_SCHEME]["bearerFormat"] == "JWT"
        assert schemes[FEED_SCHEME]["scheme"] == "bearer"
        assert "bearerFormat" not in schemes[FEED_SCHEME]  # an opaque shared secret


@services
def test_every_status_declares_the_headers_it_is_sent_with(service: Service) -> None:
    spec = committed(service)
    for method, path, operation in operations(spec):
        key = (method, path)
        statuses = operation["responses"]
        if "401" in statuses:
            assert "www-authenticate" in response_headers(spec, operation, "401"), key
        for status in ("409", "429", "503"):
            if status in statuses:
                assert "retry-after" in response_headers(spec, operation, status), (key, status)
        if "304" in statuses:
            assert "etag" in response_headers(spec, operation, "304"), key
        if key in TOKEN_RESPONSES[service.name]:
            success = next(code for code in statuses if code.startswith("2"))
            assert "cache-control" in response_headers(spec, operation, success), key
    for name in ("UNAUTHORIZED", "TOO_MANY_REQUESTS"):
        response = spec["components"]["responses"].get(name)
        if response:
            for header in response["headers"].values():
                assert resolve(spec, header)["required"] is True, name


def test_a_replayed_creation_declares_idempotent_replayed() -> None:
    spec = committed(SERVICES["todo"])
    created = spec["paths"]["/todos"]["post"]["responses"]["201"]
    assert set(created["headers"]) == {"ETag", "Location", "Idempotent-Replayed"}
    replayed = resolve(spec, created["headers"]["Idempotent-Replayed"])
    assert replayed["schema"] == {"type": "string", "enum": ["true"]}


@services
def test_x_pagination_is_json_of_the_pagination_metadata_schema(service: Service) -> None:
    spec = committed(service)
    lists = [
        (key, operation)
        for *key, operation in operations(spec)
        if "X-Pagination" in operation["responses"].get("200", {}).get("headers", {})
    ]
    assert lists or service.name not in ("auth", "todo")
    for _key, operation in lists:
        header = resolve(spec, operation["responses"]["200"]["headers"]["X-Pagination"])
        assert "schema" not in header
        (media_type,) = header["content"]
        assert media_type == "application/json"
        assert header["content"][media_type]["schema"] == {
            "$ref": "#/components/schemas/PaginationMetadata"
        }


def test_a_todo_carries_its_etag() -> None:
    spec = committed(SERVICES["todo"])
    todo = spec["components"]["schemas"]["Todo"]
    assert {"etag", "version"} <= set(todo["required"])
    assert todo["properties"]["etag"]["type"] == "string"
    assert "If-Match" in todo["properties"]["etag"]["description"]


@services
def test_servers_license_and_info(service: Service) -> None:
    spec = committed(service)
    assert spec["info"]["license"] == {"name": "MIT", "url": "https://spdx.org/licenses/MIT.html"}
    (server,) = spec["servers"]
    # Absolute: a generated client (Node's fetch) cannot resolve a relative base URL.
    assert re.fullmatch(r"http://127\.0\.0\.1:50\d\d", server["url"]), server


@services
def test_request_schemas_have_no_defaults(service: Service) -> None:
    # A default in a request schema makes generators (openapi-typescript) type the field as
    # always present; what the server fills in is said in the description instead.
    spec = committed(service)
    for method, path, operation in operations(spec):
        body = operation.get("requestBody")
        if body is None:
            continue
        (content,) = body["content"].values()  # JSON, or the token endpoint's form
        schema = resolve(spec, content["schema"])
        for name, field in schema.get("properties", {}).items():
            assert "default" not in field, (method, path, name)


@services
def test_the_problem_shape_is_open_to_extension_members(service: Service) -> None:
    problem = committed(service)["components"]["schemas"]["Problem"]
    # RFC 9457 section 3.2: extension members may be added; a client must not reject them.
    assert problem.get("additionalProperties", True) is not False
