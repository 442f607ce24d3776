from enum import StrEnum


class RevocationKind(StrEnum):
    FAMILY = "family"
    SUBJECT = "subject"
    TOKEN = "token"

    def __str__(self) -> str:
        return str(self.value)
