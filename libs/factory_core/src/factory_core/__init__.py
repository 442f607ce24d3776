"""factory_core: what every service is composed from. This module is the contract: services
import these names, from here only (docs/architecture.md maps the subpackages)."""

from factory_core.app import build_app
from factory_core.data.leases import Held, Leases
from factory_core.data.migrations import create_indexes, drop_indexes, expiring, in_batches
from factory_core.data.mongo import (
    Document,
    DocumentSchema,
    Instant,
    mongo,
    parse_object_id,
    utc_now,
)
from factory_core.outbox import OUTBOX_INDEXES, MailSettings, mail, mail_problems, message
from factory_core.runtime.background import PerProcessLoop
from factory_core.runtime.config import PLACEHOLDER, ConfigurationError, Settings, is_weak_secret
from factory_core.runtime.lifecycle import keep_running, on_shutdown, on_start
from factory_core.trust.events import EventConsumerSettings, event_consumer
from factory_core.trust.issuer import TrustedIssuerSettings, revocation_bound, trust_issuer
from factory_core.trust.tokens import (
    Claims,
    StaticKeys,
    configure_bearer,
    current_account,
    current_claims,
    current_subject,
    key_id,
    public_jwk,
    unauthorized,
)
from factory_core.web.api import Api, authenticated
from factory_core.web.errors import Problem
from factory_core.web.health import add_readiness_check
from factory_core.web.http import origin_allowed
from factory_core.web.pagination import (
    PAGE_HEADERS,
    NumberedPageArgsSchema,
    Page,
    PageArgsSchema,
    find_page,
    page_of,
    requested_page,
)

__all__ = [
    "OUTBOX_INDEXES",
    "PAGE_HEADERS",
    "PLACEHOLDER",
    "Api",
    "Claims",
    "ConfigurationError",
    "Document",
    "DocumentSchema",
    "EventConsumerSettings",
    "Held",
    "Instant",
    "Leases",
    "MailSettings",
    "NumberedPageArgsSchema",
    "Page",
    "PageArgsSchema",
    "PerProcessLoop",
    "Problem",
    "Settings",
    "StaticKeys",
    "TrustedIssuerSettings",
    "add_readiness_check",
    "authenticated",
    "build_app",
    "configure_bearer",
    "create_indexes",
    "current_account",
    "current_claims",
    "current_subject",
    "drop_indexes",
    "event_consumer",
    "expiring",
    "find_page",
    "in_batches",
    "is_weak_secret",
    "keep_running",
    "key_id",
    "mail",
    "mail_problems",
    "message",
    "mongo",
    "on_shutdown",
    "on_start",
    "origin_allowed",
    "page_of",
    "parse_object_id",
    "public_jwk",
    "requested_page",
    "revocation_bound",
    "trust_issuer",
    "unauthorized",
    "utc_now",
]
