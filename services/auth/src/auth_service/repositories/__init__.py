"""Repositories: every pymongo call of the auth service, behind typed keyword-only methods."""

from auth_service.repositories.refresh_tokens import RefreshTokenRepository
from auth_service.repositories.revocations import RevocationRepository
from auth_service.repositories.users import UsernameTakenError, UserRepository

__all__ = [
    "RefreshTokenRepository",
    "RevocationRepository",
    "UserRepository",
    "UsernameTakenError",
]
