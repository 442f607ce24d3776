"""OpenAPI and Swagger UI, served without any network access."""

from __future__ import annotations

import re
from typing import Any


def test_swagger_ui_uses_only_local_assets(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert source.startswith("/docs/assets/"), source
        with client.get(source) as asset:
            assert asset.status_code == 200, source
            assert len(asset.data) > 1000
    assert '"validatorUrl": null' in html
    assert '"url": "/openapi.json"' in html or 'url: "/openapi.json"' in html


def test_docs_csp_allows_the_page_and_only_the_token_endpoint_beside(client: Any) -> None:
    csp = client.get("/docs").headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp
    # Authorize logs in at auth's token endpoint (TOKEN_URL): its origin, and nothing else.
    assert "connect-src 'self' http://127.0.0.1:5001;" in csp
    assert csp.count("http") == 1


def test_spec_declares_the_bearer_scheme_and_the_probes(client: Any) -> None:
    spec = client.get("/openapi.json").json
    assert spec["openapi"] == "3.0.3"
    assert spec["info"] == {
        "title": "Sample API",
        "version": "0.1.0",
        "license": {"name": "MIT", "url": "https://spdx.org/licenses/MIT.html"},
    }
    assert spec["servers"] == [{"url": "http://127.0.0.1:5000", "description": "PUBLIC_URL"}]
    access = [{"bearerAuth": []}, {"oauth2Password": []}]
    assert spec["security"] == access
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"
    # The same access token, from a login at auth: Swagger UI's Authorize offers the form.
    assert schemes["oauth2Password"]["flows"] == {
        "password": {"tokenUrl": "http://127.0.0.1:5001/auth/token", "scopes": {}}
    }
    # Declared because /items/renew takes one; access and refresh tokens are not interchangeable.
    assert schemes["refreshToken"]["bearerFormat"] == "JWT"
    assert spec["paths"]["/items/renew"]["post"]["security"] == [{"refreshToken": []}]
    assert spec["paths"]["/items/mine"]["get"]["security"] == access
    assert spec["paths"]["/livez"]["get"]["security"] == []
    assert spec["paths"]["/items/mine"]["get"]["operationId"] == "getMine"
    assert {"/livez", "/readyz"} <= set(spec["paths"])
    assert spec["paths"]["/readyz"]["get"]["responses"]["503"] == {
        "$ref": "#/components/responses/SERVICE_UNAVAILABLE"
    }
