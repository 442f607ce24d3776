"""Repositories: every pymongo call of the auth service, behind typed keyword-only methods.

Each is one instance per process (``users``, ``revocations``, ``refresh_tokens``) that reaches
the current app's database through factory_core's ``mongo``.
"""

from auth_service.repositories.events import EventRepository, events
from auth_service.repositories.recovery_tokens import RecoveryTokenRepository, recovery_tokens
from auth_service.repositories.refresh_tokens import RefreshTokenRepository, refresh_tokens
from auth_service.repositories.revocations import RevocationRepository, revocations
from auth_service.repositories.sessions import SessionRepository, sessions
from auth_service.repositories.trusted_addresses import (
    TrustedAddressRepository,
    address_key,
    trusted_addresses,
)
from auth_service.repositories.users import UsernameTakenError, UserRepository, users

__all__ = [
    "EventRepository",
    "RecoveryTokenRepository",
    "RefreshTokenRepository",
    "RevocationRepository",
    "SessionRepository",
    "TrustedAddressRepository",
    "UserRepository",
    "UsernameTakenError",
    "address_key",
    "events",
    "recovery_tokens",
    "refresh_tokens",
    "revocations",
    "sessions",
    "trusted_addresses",
    "users",
]
