from enum import StrEnum


class ListTodosSort(StrEnum):
    CREATED_AT = "created_at"
    DUE = "due"
    PRIORITY = "priority"
    TITLE = "title"
    VALUE_1 = "-created_at"
    VALUE_3 = "-due"
    VALUE_5 = "-priority"
    VALUE_7 = "-title"

    def __str__(self) -> str:
        return str(self.value)
