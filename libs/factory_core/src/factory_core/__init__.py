"""Shared application-factory core for the Flask services of this repository."""

from factory_core.api import BEARER_SCHEME, Api, authenticated
from factory_core.app import build_app
from factory_core.config import PLACEHOLDER, ConfigurationError, Settings
from factory_core.errors import PROBLEM_CONTENT_TYPE, Problem, ProblemSchema, problem
from factory_core.events import EventConsumer, EventConsumerSettings, events
from factory_core.lifecycle import on_shutdown, shutdown
from factory_core.mail import Mail, MailSettings, mail
from factory_core.mongo import DocumentSchema, Mongo, mongo
from factory_core.pagination import PAGE_HEADERS, PageArgsSchema, pagination_headers
from factory_core.tokens import (
    BearerTokens,
    Claims,
    KeySource,
    RemoteJWKS,
    StaticKeys,
    UnknownKeyError,
    bearer_tokens,
    configure_bearer,
    configure_jwt,
    current_account,
    current_claims,
    current_subject,
    jwk_thumbprint,
    public_jwk,
    unauthorized,
    verify_bearer,
)
from factory_core.trust import (
    TrustedIssuer,
    TrustedIssuerSettings,
    revocation_bound,
    revocation_feed,
    trust_issuer,
)

__all__ = [
    "BEARER_SCHEME",
    "PAGE_HEADERS",
    "PLACEHOLDER",
    "PROBLEM_CONTENT_TYPE",
    "Api",
    "BearerTokens",
    "Claims",
    "ConfigurationError",
    "DocumentSchema",
    "EventConsumer",
    "EventConsumerSettings",
    "KeySource",
    "Mail",
    "MailSettings",
    "Mongo",
    "PageArgsSchema",
    "Problem",
    "ProblemSchema",
    "RemoteJWKS",
    "Settings",
    "StaticKeys",
    "TrustedIssuer",
    "TrustedIssuerSettings",
    "UnknownKeyError",
    "authenticated",
    "bearer_tokens",
    "build_app",
    "configure_bearer",
    "configure_jwt",
    "current_account",
    "current_claims",
    "current_subject",
    "events",
    "jwk_thumbprint",
    "mail",
    "mongo",
    "on_shutdown",
    "pagination_headers",
    "problem",
    "public_jwk",
    "revocation_bound",
    "revocation_feed",
    "shutdown",
    "trust_issuer",
    "unauthorized",
    "verify_bearer",
]
