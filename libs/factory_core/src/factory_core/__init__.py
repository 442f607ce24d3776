"""Shared application-factory core for the Flask services of this repository."""

from factory_core.api import BEARER_SCHEME, Api
from factory_core.app import build_app
from factory_core.config import PLACEHOLDER, ConfigurationError, Settings
from factory_core.errors import (
    PROBLEM_CONTENT_TYPE,
    ProblemSchema,
    ServiceUnavailable,
    problem,
)
from factory_core.mongo import Mongo, mongo
from factory_core.pagination import PAGE_HEADERS, PageArgsSchema, pagination_headers
from factory_core.tokens import (
    KeySource,
    RemoteJWKS,
    StaticKeys,
    UnknownKeyError,
    configure_jwt,
    public_jwk,
    unauthorized,
)

__all__ = [
    "BEARER_SCHEME",
    "PAGE_HEADERS",
    "PLACEHOLDER",
    "PROBLEM_CONTENT_TYPE",
    "Api",
    "ConfigurationError",
    "KeySource",
    "Mongo",
    "PageArgsSchema",
    "ProblemSchema",
    "RemoteJWKS",
    "ServiceUnavailable",
    "Settings",
    "StaticKeys",
    "UnknownKeyError",
    "build_app",
    "configure_jwt",
    "mongo",
    "pagination_headers",
    "problem",
    "public_jwk",
    "unauthorized",
]
