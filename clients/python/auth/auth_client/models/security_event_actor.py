from enum import StrEnum


class SecurityEventActor(StrEnum):
    ACCOUNT = "account"
    ADMIN = "admin"

    def __str__(self) -> str:
        return str(self.value)
