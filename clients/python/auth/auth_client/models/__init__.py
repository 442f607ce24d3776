"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .account_deletion import AccountDeletion
from .admin_user import AdminUser
from .email_verified import EmailVerified
from .event import Event
from .event_feed import EventFeed
from .health import Health
from .health_checks import HealthChecks
from .jwk import JWK
from .jwk_set import JWKSet
from .login import Login
from .mfa_challenge import MfaChallenge
from .mfa_confirm import MfaConfirm
from .mfa_disable import MfaDisable
from .mfa_enrolment import MfaEnrolment
from .mfa_login import MfaLogin
from .pagination_metadata import PaginationMetadata
from .password_change import PasswordChange
from .password_reset import PasswordReset
from .password_reset_request import PasswordResetRequest
from .problem import Problem
from .problem_errors import ProblemErrors
from .recovery_codes import RecoveryCodes
from .register import Register
from .reset_token_status import ResetTokenStatus
from .revocation import Revocation
from .revocation_feed import RevocationFeed
from .revocation_kind import RevocationKind
from .security_event import SecurityEvent
from .security_event_actor import SecurityEventActor
from .session import Session
from .token_pair import TokenPair
from .token_request import TokenRequest
from .token_request_grant_type import TokenRequestGrantType
from .user import User
from .user_update import UserUpdate

__all__ = (
    "Accepted",
    "AccountDeletion",
    "AdminUser",
    "EmailVerified",
    "Event",
    "EventFeed",
    "Health",
    "HealthChecks",
    "JWK",
    "JWKSet",
    "Login",
    "MfaChallenge",
    "MfaConfirm",
    "MfaDisable",
    "MfaEnrolment",
    "MfaLogin",
    "PaginationMetadata",
    "PasswordChange",
    "PasswordReset",
    "PasswordResetRequest",
    "Problem",
    "ProblemErrors",
    "RecoveryCodes",
    "Register",
    "ResetTokenStatus",
    "Revocation",
    "RevocationFeed",
    "RevocationKind",
    "SecurityEvent",
    "SecurityEventActor",
    "Session",
    "TokenPair",
    "TokenRequest",
    "TokenRequestGrantType",
    "User",
    "UserUpdate",
)
