"""Repositories: every pymongo call of the todo service, behind typed keyword-only methods."""

from todo_service.repositories.idempotency import (
    IdempotencyRepository,
    KeyQuotaExceededError,
    idempotency_records,
)
from todo_service.repositories.todos import (
    TodoFilter,
    TodoLimitReachedError,
    TodoRepository,
    sort_order,
    to_document,
    todos,
)

__all__ = [
    "IdempotencyRepository",
    "KeyQuotaExceededError",
    "TodoFilter",
    "TodoLimitReachedError",
    "TodoRepository",
    "idempotency_records",
    "sort_order",
    "to_document",
    "todos",
]
