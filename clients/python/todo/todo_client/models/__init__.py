"""Contains all the data models used in inputs/outputs"""

from .health import Health
from .health_checks import HealthChecks
from .list_todos_priority import ListTodosPriority
from .list_todos_sort import ListTodosSort
from .pagination_metadata import PaginationMetadata
from .problem import Problem
from .problem_errors import ProblemErrors
from .todo import Todo
from .todo_create import TodoCreate
from .todo_create_priority import TodoCreatePriority
from .todo_priority import TodoPriority
from .todo_replace import TodoReplace
from .todo_replace_priority import TodoReplacePriority
from .todo_update import TodoUpdate
from .todo_update_priority import TodoUpdatePriority

__all__ = (
    "Health",
    "HealthChecks",
    "ListTodosPriority",
    "ListTodosSort",
    "PaginationMetadata",
    "Problem",
    "ProblemErrors",
    "Todo",
    "TodoCreate",
    "TodoCreatePriority",
    "TodoPriority",
    "TodoReplace",
    "TodoReplacePriority",
    "TodoUpdate",
    "TodoUpdatePriority",
)
