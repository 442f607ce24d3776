"""BearerTokens: each token verified once per process, its expiry and its key on every use."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.support.counting_key import CountingKey

from factory_core import StaticKeys
from factory_core.trust.tokens import BearerTokens, UnknownKeyError

ISSUER, AUDIENCE, LEEWAY = "auth-service", "flask-factory", 5


class _Counting:
    """A key source whose keys count the signatures they check; a test replaces them."""

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        self.counter: list[int] = []
        self.by_kid: dict[str, Any] = {}
        self.replace("k1", key)

    @property
    def verifications(self) -> int:
        return len(self.counter)

    def replace(self, kid: str, key: ec.EllipticCurvePublicKey) -> None:
        self.by_kid[kid] = CountingKey(key, self.counter)

    def verification_key(self, kid: str) -> Any:
        return StaticKeys(self.by_kid).verification_key(kid)


SIGNER = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())


def _token(key: Any = SIGNER, algorithm: str = "ES256", **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "iat": now, "exp": now + 300}
    payload |= claims
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": "k1"})


def _tokens(keys: Any, *, algorithm: str = "ES256", remember: int = 4096) -> BearerTokens:
    return BearerTokens(
        keys,
        algorithm=algorithm,
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=LEEWAY,
        required_claims=("sub", "exp"),
        remember=remember,
    )


def test_a_token_is_verified_once_and_its_expiry_checked_on_every_use() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys)
    token = _token()
    for _ in range(3):
        assert tokens.verify(token)["sub"] == "u1"
    assert keys.verifications == 1
    tokens.verify(_token(jti="another"))
    assert keys.verifications == 2
    expiring = _token(exp=int(time.time()) - LEEWAY + 1)
    tokens.verify(expiring)
    time.sleep(1.1)
    with pytest.raises(jwt.ExpiredSignatureError):
        tokens.verify(expiring)


def test_what_was_verified_vouches_for_nothing_else() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys)
    token = _token()
    tokens.verify(token)
    header, payload, signature = token.split(".")
    forged_payload = f"{header}.{_token(sub='admin').split('.')[1]}.{signature}"
    forged_signature = f"{header}.{payload}.{_token(key=OTHER).split('.')[2]}"
    for forged in (forged_payload, forged_signature):
        with pytest.raises(jwt.InvalidTokenError):
            tokens.verify(forged)


def test_the_claims_handed_out_are_read_only() -> None:
    claims = _tokens(StaticKeys({"k1": SIGNER.public_key()})).verify(_token())
    with pytest.raises(TypeError):
        claims["sub"] = "admin"  # type: ignore[index]


def test_a_new_key_under_the_same_kid_checks_the_token_again() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys)
    token = _token()
    tokens.verify(token)
    keys.replace("k1", OTHER.public_key())
    with pytest.raises(jwt.InvalidSignatureError):
        tokens.verify(token)
    keys.replace("k1", SIGNER.public_key())  # the same key, as a new object: checked again
    tokens.verify(token)
    assert keys.verifications == 3


def test_a_withdrawn_key_refuses_the_tokens_it_signed() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys)
    token = _token()
    tokens.verify(token)
    del keys.by_kid["k1"]
    with pytest.raises(UnknownKeyError):
        tokens.verify(token)


def test_only_the_last_tokens_are_remembered() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys, remember=2)
    first, second, third = (_token(jti=str(n)) for n in range(3))
    for token in (first, second, third, third, second):
        tokens.verify(token)
    assert keys.verifications == 3
    tokens.verify(first)  # pushed out by the third
    assert keys.verifications == 4


def test_a_token_used_once_is_not_remembered() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys)
    token = _token()
    tokens.verify(token, remember=False)
    tokens.verify(token, remember=False)
    assert keys.verifications == 2


def test_remember_zero_verifies_every_time() -> None:
    keys = _Counting(SIGNER.public_key())
    tokens = _tokens(keys, remember=0)
    token = _token()
    tokens.verify(token)
    tokens.verify(token)
    assert keys.verifications == 2


@pytest.mark.parametrize(
    ("claims", "refused"),
    [
        (lambda: {"exp": None}, jwt.MissingRequiredClaimError),
        (lambda: {"iss": "someone-else"}, jwt.InvalidIssuerError),
        (lambda: {"aud": "another-audience"}, jwt.InvalidAudienceError),
        # Made when the test runs: a time taken at collection is long past in a long suite.
        (lambda: {"nbf": int(time.time()) + 600}, jwt.ImmatureSignatureError),
    ],
)
def test_the_standard_claims_are_checked(
    claims: Callable[[], dict[str, Any]], refused: type
) -> None:
    tokens = _tokens(StaticKeys({"k1": SIGNER.public_key()}))
    with pytest.raises(refused):
        tokens.verify(_token(**claims()))


def test_rsa_keys_work_alike() -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = _tokens(StaticKeys({"k1": private_key.public_key()}), algorithm="RS256")
    token = _token(key=private_key, algorithm="RS256")
    assert tokens.verify(token)["sub"] == "u1"
    assert tokens.verify(token)["sub"] == "u1"
    with pytest.raises(jwt.InvalidTokenError):  # an EC token where RS256 is configured
        tokens.verify(_token())
