from enum import StrEnum


class SecurityEventType(StrEnum):
    ACCOUNT_DISABLED = "account_disabled"
    EMAIL_CHANGED = "email_changed"
    EMAIL_VERIFIED = "email_verified"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    SESSION_ENDED = "session_ended"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"

    def __str__(self) -> str:
        return str(self.value)
