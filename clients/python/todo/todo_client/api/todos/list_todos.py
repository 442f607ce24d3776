import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.list_todos_priority import ListTodosPriority
from ...models.list_todos_sort import ListTodosSort
from ...models.problem import Problem
from ...models.todo import Todo
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: str | Unset = UNSET,
    page_size: int | Unset = 20,
    page: int | Unset = UNSET,
    done: bool | Unset = UNSET,
    tag: str | Unset = UNSET,
    priority: ListTodosPriority | Unset = UNSET,
    due_before: datetime.datetime | Unset = UNSET,
    due_after: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: ListTodosSort | Unset = ListTodosSort.CREATED_AT,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["after"] = after

    params["page_size"] = page_size

    params["page"] = page

    params["done"] = done

    params["tag"] = tag

    json_priority: str | Unset = UNSET
    if not isinstance(priority, Unset):
        json_priority = priority.value

    params["priority"] = json_priority

    json_due_before: str | Unset = UNSET
    if not isinstance(due_before, Unset):
        json_due_before = due_before.isoformat()
    params["due_before"] = json_due_before

    json_due_after: str | Unset = UNSET
    if not isinstance(due_after, Unset):
        json_due_after = due_after.isoformat()
    params["due_after"] = json_due_after

    params["q"] = q

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/todos",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | list[Todo]:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = Todo.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[Todo]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    page_size: int | Unset = 20,
    page: int | Unset = UNSET,
    done: bool | Unset = UNSET,
    tag: str | Unset = UNSET,
    priority: ListTodosPriority | Unset = UNSET,
    due_before: datetime.datetime | Unset = UNSET,
    due_after: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: ListTodosSort | Unset = ListTodosSort.CREATED_AT,
) -> Response[Problem | list[Todo]]:
    """List the caller's todos, one page at a time

    Args:
        after (str | Unset):
        page_size (int | Unset):  Default: 20.
        page (int | Unset):
        done (bool | Unset):
        tag (str | Unset):
        priority (ListTodosPriority | Unset):
        due_before (datetime.datetime | Unset):
        due_after (datetime.datetime | Unset):
        q (str | Unset):
        sort (ListTodosSort | Unset):  Default: ListTodosSort.CREATED_AT.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Todo]]
    """

    kwargs = _get_kwargs(
        after=after,
        page_size=page_size,
        page=page,
        done=done,
        tag=tag,
        priority=priority,
        due_before=due_before,
        due_after=due_after,
        q=q,
        sort=sort,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    page_size: int | Unset = 20,
    page: int | Unset = UNSET,
    done: bool | Unset = UNSET,
    tag: str | Unset = UNSET,
    priority: ListTodosPriority | Unset = UNSET,
    due_before: datetime.datetime | Unset = UNSET,
    due_after: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: ListTodosSort | Unset = ListTodosSort.CREATED_AT,
) -> Problem | list[Todo] | None:
    """List the caller's todos, one page at a time

    Args:
        after (str | Unset):
        page_size (int | Unset):  Default: 20.
        page (int | Unset):
        done (bool | Unset):
        tag (str | Unset):
        priority (ListTodosPriority | Unset):
        due_before (datetime.datetime | Unset):
        due_after (datetime.datetime | Unset):
        q (str | Unset):
        sort (ListTodosSort | Unset):  Default: ListTodosSort.CREATED_AT.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Todo]
    """

    return sync_detailed(
        client=client,
        after=after,
        page_size=page_size,
        page=page,
        done=done,
        tag=tag,
        priority=priority,
        due_before=due_before,
        due_after=due_after,
        q=q,
        sort=sort,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    page_size: int | Unset = 20,
    page: int | Unset = UNSET,
    done: bool | Unset = UNSET,
    tag: str | Unset = UNSET,
    priority: ListTodosPriority | Unset = UNSET,
    due_before: datetime.datetime | Unset = UNSET,
    due_after: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: ListTodosSort | Unset = ListTodosSort.CREATED_AT,
) -> Response[Problem | list[Todo]]:
    """List the caller's todos, one page at a time

    Args:
        after (str | Unset):
        page_size (int | Unset):  Default: 20.
        page (int | Unset):
        done (bool | Unset):
        tag (str | Unset):
        priority (ListTodosPriority | Unset):
        due_before (datetime.datetime | Unset):
        due_after (datetime.datetime | Unset):
        q (str | Unset):
        sort (ListTodosSort | Unset):  Default: ListTodosSort.CREATED_AT.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Todo]]
    """

    kwargs = _get_kwargs(
        after=after,
        page_size=page_size,
        page=page,
        done=done,
        tag=tag,
        priority=priority,
        due_before=due_before,
        due_after=due_after,
        q=q,
        sort=sort,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: str | Unset = UNSET,
    page_size: int | Unset = 20,
    page: int | Unset = UNSET,
    done: bool | Unset = UNSET,
    tag: str | Unset = UNSET,
    priority: ListTodosPriority | Unset = UNSET,
    due_before: datetime.datetime | Unset = UNSET,
    due_after: datetime.datetime | Unset = UNSET,
    q: str | Unset = UNSET,
    sort: ListTodosSort | Unset = ListTodosSort.CREATED_AT,
) -> Problem | list[Todo] | None:
    """List the caller's todos, one page at a time

    Args:
        after (str | Unset):
        page_size (int | Unset):  Default: 20.
        page (int | Unset):
        done (bool | Unset):
        tag (str | Unset):
        priority (ListTodosPriority | Unset):
        due_before (datetime.datetime | Unset):
        due_after (datetime.datetime | Unset):
        q (str | Unset):
        sort (ListTodosSort | Unset):  Default: ListTodosSort.CREATED_AT.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Todo]
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            page_size=page_size,
            page=page,
            done=done,
            tag=tag,
            priority=priority,
            due_before=due_before,
            due_after=due_after,
            q=q,
            sort=sort,
        )
    ).parsed
