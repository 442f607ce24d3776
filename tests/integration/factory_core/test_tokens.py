"""Token verification: exactly one algorithm, keys by kid, and a 401 problem for every failure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from tests.support.counting_key import CountingKey
from tests.support.devdb import free_port
from tests.support.problems import assert_problem
from tests.support.sample import KID, OTHER_KEY, PRIVATE_KEY, make_token

from factory_core import Problem, StaticKeys, public_jwk
from factory_core.trust.tokens import RemoteJWKS, UnknownKeyError, bearer_tokens
from factory_core.web.errors import PROBLEM_CONTENT_TYPE


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _tampered() -> str:
    header, _payload, signature = make_token().split(".")
    claims = _claims(make_token())
    claims["sub"] = "admin"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _hs256_with_public_key() -> str:
    public_pem = PRIVATE_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = (
        f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims(make_token())).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


ATTACKS = {
    "alg none": lambda: _unsigned({"alg": "none", "typ": "JWT", "kid": KID}, _claims(make_token())),
    "HS256 signed with the public key": _hs256_with_public_key,
    "tampered payload": _tampered,
    "signed by another key": lambda: make_token(key=OTHER_KEY),
    "unknown kid": lambda: make_token(headers={"kid": "someone-else"}),
    "path-like kid": lambda: make_token(headers={"kid": "../../etc/passwd"}),
    "no kid": lambda: jwt.encode(_claims(make_token()), PRIVATE_KEY, algorithm="ES256"),
    "jku header": lambda: make_token(headers={"jku": "http://127.0.0.1:1/jwks.json"}),
    "x5u header": lambda: make_token(headers={"x5u": "http://127.0.0.1:1/cert.pem"}),
    "jwk header": lambda: make_token(
        headers={"jwk": public_jwk(OTHER_KEY.public_key(), kid=KID, algorithm="ES256")}
    ),
    "wrong issuer": lambda: make_token(iss="evil"),
    "wrong audience": lambda: make_token(aud="other-service"),
    "no issuer": lambda: make_token(iss=None),
    "expired": lambda: make_token(exp=int(time.time()) - 60),
    "not yet valid": lambda: make_token(nbf=int(time.time()) + 600),
    "refresh token as access token": lambda: make_token(type="refresh"),
    "garbage": lambda: "not-a-jwt",
    "ES384 when ES256 is configured": lambda: make_token(
        algorithm="ES384", key=ec.generate_private_key(ec.SECP384R1())
    ),
}


def _assert_401(response: Any, code: str) -> dict[str, Any]:
    assert response.status_code == 401
    assert response.mimetype == PROBLEM_CONTENT_TYPE
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="sample"')
    body: dict[str, Any] = response.json
    assert body["status"] == 401
    assert body["code"] == code
    return body


def test_valid_token_is_accepted(client: Any) -> None:
    response = client.get("/items/mine", headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 200
    assert response.json == {"sub": "user-1"}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_is_401_problem(client: Any, attack: str) -> None:
    token = ATTACKS[attack]()
    response = client.get("/items/mine", headers={"Authorization": f"Bearer {token}"})
    code = "token_expired" if attack == "expired" else "invalid_token"
    _assert_401(response, code)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_missing_token_is_401_without_error_code(client: Any) -> None:
    body = _assert_401(client.get("/items/mine"), "missing_token")
    assert "error=" not in client.get("/items/mine").headers["WWW-Authenticate"]
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("bearer {token}", None),  # RFC 9110: the scheme is case-insensitive
        ("BEARER {token}", None),
        ("Basic dXNlcjpwYXNz", "missing_token"),
        ("{token}", "missing_token"),
        ("Bearer", "missing_token"),
        ("Bearer {token} {token}", "invalid_token"),
        ("Bearer {token}x", "invalid_token"),
    ],
)
def test_the_authorization_header_is_read_as_http_says(
    client: Any, authorization: str, code: str | None
) -> None:
    response = client.get(
        "/items/mine", headers={"Authorization": authorization.format(token=make_token())}
    )
    if code is None:
        assert response.status_code == 200
        assert response.json == {"sub": "user-1"}
    else:
        _assert_401(response, code)


def test_token_only_in_header(client: Any) -> None:
    token = make_token()
    assert client.get(f"/items/mine?jwt={token}").status_code == 401
    client.set_cookie("access_token_cookie", token)
    assert client.get("/items/mine").status_code == 401


def test_public_jwk_has_no_private_members() -> None:
    jwk = public_jwk(PRIVATE_KEY, kid="k1", algorithm="ES256")
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert jwk["use"] == "sig"


class _JWKSServer:
    """A JWKS endpoint on loopback whose document and availability a test controls."""

    def __init__(self) -> None:
        self.document: dict[str, Any] | str = {"keys": []}
        self.requests = 0
        #: "before headers" or "mid-body": the server resets the TCP connection (RST) there.
        self.reset: str | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                document = server.document
                body = (document if isinstance(document, str) else json.dumps(document)).encode()
                if server.reset == "before headers":
                    self._reset()
                    return
                if server.reset == "mid-body":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body) + 100))
                    self.end_headers()
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    self._reset()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _reset(self) -> None:
                # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[_JWKSServer]:
    server = _JWKSServer()
    yield server
    server.close()


def test_remote_jwks_caches_refreshes_on_unknown_kid_and_keeps_last_good(
    jwks_server: _JWKSServer,
) -> None:
    jwks_server.document = {
        "keys": [public_jwk(PRIVATE_KEY.public_key(), kid="k1", algorithm="ES256")]
    }
    keys = RemoteJWKS(jwks_server.url, timeout=1, lifespan=0.2, cooldown=0)
    assert keys.verification_key("k1").public_numbers() == PRIVATE_KEY.public_key().public_numbers()
    keys.verification_key("k1")
    assert jwks_server.requests == 1  # cached

    jwks_server.document["keys"].append(
        public_jwk(OTHER_KEY.public_key(), kid="k2", algorithm="ES256")
    )
    assert keys.verification_key("k2") is not None  # unknown kid -> one refresh
    assert jwks_server.requests == 2
    with pytest.raises(UnknownKeyError):
        keys.verification_key("k3")

    jwks_server.close()
    time.sleep(0.3)  # let the cached set expire while the issuer is down
    assert keys.verification_key("k1") is not None


def test_remote_jwks_never_fetched_is_503() -> None:
    keys = RemoteJWKS(f"http://127.0.0.1:{free_port()}/jwks.json", timeout=0.5)
    with pytest.raises(Problem):
        keys.verification_key("k1")


def test_remote_jwks_refresh_on_unknown_kid_is_rate_limited(jwks_server: _JWKSServer) -> None:
    jwks_server.document = {
        "keys": [public_jwk(PRIVATE_KEY.public_key(), kid="k1", algorithm="ES256")]
    }
    keys = RemoteJWKS(jwks_server.url, timeout=1, cooldown=60)
    keys.verification_key("k1")
    for kid in ("x1", "x2", "x3"):
        with pytest.raises(UnknownKeyError):
            keys.verification_key(kid)
    assert jwks_server.requests == 1


@pytest.mark.parametrize(
    "broken",
    [
        "<html>maintenance</html>",
        "[]",
        json.dumps({"keys": []}),
        json.dumps({"keys": [{"kty": "?"}]}),
    ],
)
def test_remote_jwks_unusable_answer_keeps_last_good_or_is_503(
    jwks_server: _JWKSServer, broken: str
) -> None:
    jwks_server.document = broken
    with pytest.raises(Problem):
        RemoteJWKS(jwks_server.url, timeout=1).verification_key("k1")

    jwks_server.document = {
        "keys": [public_jwk(PRIVATE_KEY.public_key(), kid="k1", algorithm="ES256")]
    }
    keys = RemoteJWKS(jwks_server.url, timeout=1, lifespan=0.1)
    assert keys.verification_key("k1") is not None
    jwks_server.document = broken
    time.sleep(0.2)  # the cached set expires; the next fetch gets the broken answer
    assert keys.verification_key("k1") is not None


@pytest.mark.parametrize("reset", ["before headers", "mid-body"])
def test_remote_jwks_connection_reset_is_503_or_last_good(
    jwks_server: _JWKSServer, reset: str
) -> None:
    jwks_server.reset = reset
    with pytest.raises(Problem):
        RemoteJWKS(jwks_server.url, timeout=1).verification_key("k1")

    jwks_server.reset = None
    jwks_server.document = {
        "keys": [public_jwk(PRIVATE_KEY.public_key(), kid="k1", algorithm="ES256")]
    }
    keys = RemoteJWKS(jwks_server.url, timeout=1, lifespan=0.1)
    assert keys.verification_key("k1") is not None
    jwks_server.reset = reset
    time.sleep(0.2)  # the cached set expires; the next fetch is reset
    assert keys.verification_key("k1") is not None


@pytest.fixture
def counting_key(sample_app: Flask) -> CountingKey:
    key = CountingKey(PRIVATE_KEY.public_key())
    bearer_tokens(sample_app).keys = StaticKeys({KID: key})
    return key


def _get(client: Any, token: str) -> Any:
    return client.get("/items/mine", headers={"Authorization": f"Bearer {token}"})


def test_a_token_s_signature_is_checked_once_and_its_claims_on_every_use(
    client: Any, counting_key: CountingKey
) -> None:
    token = make_token()
    assert [_get(client, token).status_code for _ in range(3)] == [200, 200, 200]
    assert counting_key.verifications == 1
    # Another token is another signature.
    assert _get(client, make_token(jti="another")).status_code == 200
    assert counting_key.verifications == 2
    # Claims are not remembered: a token accepted a moment ago is refused once it expires.
    leeway = 5
    valid_for = 4  # seconds: a loaded machine may take one or two to send the first request
    expiring = make_token(exp=int(time.time()) - leeway + valid_for)
    assert _get(client, expiring).status_code == 200
    time.sleep(valid_for + 1.1)
    _assert_401(_get(client, expiring), "token_expired")


def test_a_remembered_signature_does_not_vouch_for_anything_else(
    client: Any, counting_key: CountingKey
) -> None:
    token = make_token()
    assert _get(client, token).status_code == 200
    header, payload, signature = token.split(".")
    claims = _claims(token) | {"sub": "admin"}
    forged_payload = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[-1] ^= 1
    forged_signature = f"{header}.{payload}.{_b64(bytes(raw))}"
    for forged in (forged_payload, forged_signature):
        _assert_401(_get(client, forged), "invalid_token")
    assert _get(client, token).status_code == 200


def test_refresh_tokens_are_not_remembered(client: Any, counting_key: CountingKey) -> None:
    # Each is used once (rotation): remembering them would only push out access tokens.
    refresh = {"Authorization": f"Bearer {make_token(type='refresh')}"}
    assert [client.post("/items/renew", headers=refresh).status_code for _ in range(2)] == [
        200,
        200,
    ]
    assert counting_key.verifications == 2


def test_a_new_key_under_the_same_kid_is_checked_afresh(sample_app: Flask, client: Any) -> None:
    token = make_token()
    assert _get(client, token).status_code == 200
    bearer_tokens(sample_app).keys = StaticKeys({KID: OTHER_KEY.public_key()})
    _assert_401(_get(client, token), "invalid_token")  # not the key that signed it


@pytest.mark.parametrize(
    ("amr", "status"),
    [(None, 403), (["pwd"], 403), ("otp", 403), (["pwd", "otp"], 200), (["otp"], 200)],
)
def test_an_operation_that_needs_a_second_factor_reads_amr(
    client: Any, amr: Any, status: int
) -> None:
    token = make_token(amr=amr)
    response = client.get("/items/mine/secret", headers={"Authorization": f"Bearer {token}"})
    if status == 403:
        assert_problem(response, 403, "mfa_required")
    else:
        assert response.status_code == 200
        assert response.json == {"sub": "user-1"}
    assert (
        client.get("/items/mine", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_an_operation_that_needs_a_second_factor_documents_403(client: Any) -> None:
    spec = client.get("/openapi.json").json
    assert "403" in spec["paths"]["/items/mine/secret"]["get"]["responses"]
    assert "403" not in spec["paths"]["/items/mine"]["get"]["responses"]
