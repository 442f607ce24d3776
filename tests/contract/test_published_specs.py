"""The published specs: committed, current, valid, deterministic, errors in the shared shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from tests.support.openapi import deployment_urls, operations, resolve
from tools.contract import openapi_spec
from tools.contract.openapi_spec import SERVICES, Service

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

services = pytest.mark.parametrize("service", list(SERVICES.values()), ids=list(SERVICES))


@pytest.fixture(scope="module")
def live_specs() -> dict[str, dict[str, Any]]:
    return {name: openapi_spec.live_spec(service) for name, service in SERVICES.items()}


@services
def test_committed_spec_is_the_code_s_spec(service: Service) -> None:
    assert service.spec_path.exists(), f"{service.spec_path} is missing: run `make openapi`"
    changes = openapi_spec.stale_diff(service)
    assert not changes, (
        f"{service.spec_path.name} of {service.name} differs from what the code serves; "
        f"run `make openapi` and commit the result if the change is intended:\n{changes}"
    )


@services
def test_committed_spec_is_canonical_text(service: Service) -> None:
    text = service.spec_path.read_text()
    assert text == openapi_spec.render(json.loads(text)), "not sorted/indented by make openapi"


@services
def test_specs_are_valid_openapi(service: Service, live_specs: dict[str, dict[str, Any]]) -> None:
    validate(json.loads(service.spec_path.read_text()))
    validate(live_specs[service.name])


@services
def test_spec_does_not_depend_on_the_machine(
    service: Service, live_specs: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A developer's environment (other ports, URLs, versions) must not leak into the contract.
    monkeypatch.setenv(f"{service.env_prefix}_API_VERSION", "9.9.9")
    monkeypatch.setenv(f"{service.env_prefix}_PORT", "6543")
    monkeypatch.setenv(f"{service.env_prefix}_JWKS_URL", "http://10.1.2.3:6543/jwks.json")
    monkeypatch.setenv(f"{service.env_prefix}_PUBLIC_URL", "http://10.1.2.3:6543")
    monkeypatch.setenv(f"{service.env_prefix}_TOKEN_URL", "http://10.1.2.3:6543/auth/token")
    again = openapi_spec.live_spec(service)
    assert openapi_spec.render(again) == openapi_spec.render(live_specs[service.name])
    # The one server and the token endpoint are the code's defaults (make run's ports), never
    # the shell's: the deployment's own parts of a spec.
    server, token_url = deployment_urls(again)
    assert server.startswith("http://127.0.0.1:"), server
    assert token_url == "http://127.0.0.1:5001/auth/token"
    text = openapi_spec.render(again)
    for machine_detail in ("127.0.0.1", "localhost", "/tmp/", str(openapi_spec.ROOT), "6543"):  # noqa: S108
        assert machine_detail not in text


def test_a_stale_spec_fails_with_a_readable_diff() -> None:
    service = SERVICES["todo"]
    live = openapi_spec.live_spec(service)
    committed = json.loads(openapi_spec.render(live))
    committed["info"]["version"] = "0.0.1"
    changes = openapi_spec.diff(service, openapi_spec.render(committed), openapi_spec.render(live))
    assert "services/todo/openapi.json (committed)" in changes
    assert '-    "version": "0.0.1"' in changes
    assert f'+    "version": "{live["info"]["version"]}"' in changes


@services
def test_every_error_response_uses_the_problem_schema(
    service: Service, live_specs: dict[str, dict[str, Any]]
) -> None:
    spec = live_specs[service.name]
    wrong = []
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                content = resolve(spec, response).get("content")
                if content != PROBLEM_CONTENT:
                    wrong.append(f"{method} {path} {status}: {content}")
    assert not wrong, "error responses not documented as application/problem+json Problem:\n" + (
        "\n".join(wrong)
    )
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "code", "errors"} <= set(problem)


def _expected_statuses(operation: dict[str, Any]) -> set[str]:
    """What any operation of this shape can answer, whatever it does."""
    expected = set()
    if operation.get("security"):
        expected.add("401")
    if "requestBody" in operation:
        expected |= {"400", "413", "415", "422"}
    locations = {parameter["in"] for parameter in operation.get("parameters", [])}
    if "query" in locations:
        expected.add("422")
    if "path" in locations:
        expected.add("404")
    if any(p["in"] == "header" and p.get("required") for p in operation.get("parameters", [])):
        expected.add("428")
    return expected


@services
def test_generic_failures_are_documented(
    service: Service, live_specs: dict[str, dict[str, Any]]
) -> None:
    """Authentication, body, query, path and precondition failures, from each operation's shape.

    What depends on the operation's behaviour (409, 412, 429, 503...) is checked by sending the
    requests that cause it: tests/contract/test_documented_responses.py and schemathesis.
    """
    spec = live_specs[service.name]
    missing = [
        f"{method} {path}: {sorted(_expected_statuses(operation) - set(operation['responses']))}"
        for method, path, operation in operations(spec)
        if _expected_statuses(operation) - set(operation["responses"])
    ]
    assert not missing, "undocumented responses:\n" + "\n".join(missing)


@services
def test_every_operation_has_a_summary_and_a_success_response(
    service: Service, live_specs: dict[str, dict[str, Any]]
) -> None:
    spec = live_specs[service.name]
    for method, path, operation in operations(spec):
        assert operation.get("summary"), f"{method} {path} has no summary (view docstring)"
        assert any(status.startswith("2") for status in operation["responses"]), (method, path)
