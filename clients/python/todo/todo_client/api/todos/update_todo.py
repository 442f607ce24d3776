from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.todo import Todo
from ...models.todo_update import TodoUpdate
from ...types import UNSET, Response, Unset


def _get_kwargs(
    todo_id: str,
    *,
    body: TodoUpdate,
    if_match: str,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["If-Match"] = if_match

    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/todos/{todo_id}".format(
            todo_id=quote(str(todo_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Todo:
    if response.status_code == 200:
        response_200 = Todo.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 428:
        response_428 = Problem.from_dict(response.json())

        return response_428

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Todo]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    todo_id: str,
    *,
    client: AuthenticatedClient,
    body: TodoUpdate,
    if_match: str,
    if_none_match: str | Unset = UNSET,
) -> Response[Problem | Todo]:
    """Change some fields of a todo (If-Match required)

    Args:
        todo_id (str):
        if_match (str):
        if_none_match (str | Unset):
        body (TodoUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Todo]
    """

    kwargs = _get_kwargs(
        todo_id=todo_id,
        body=body,
        if_match=if_match,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    todo_id: str,
    *,
    client: AuthenticatedClient,
    body: TodoUpdate,
    if_match: str,
    if_none_match: str | Unset = UNSET,
) -> Problem | Todo | None:
    """Change some fields of a todo (If-Match required)

    Args:
        todo_id (str):
        if_match (str):
        if_none_match (str | Unset):
        body (TodoUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Todo
    """

    return sync_detailed(
        todo_id=todo_id,
        client=client,
        body=body,
        if_match=if_match,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    todo_id: str,
    *,
    client: AuthenticatedClient,
    body: TodoUpdate,
    if_match: str,
    if_none_match: str | Unset = UNSET,
) -> Response[Problem | Todo]:
    """Change some fields of a todo (If-Match required)

    Args:
        todo_id (str):
        if_match (str):
        if_none_match (str | Unset):
        body (TodoUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Todo]
    """

    kwargs = _get_kwargs(
        todo_id=todo_id,
        body=body,
        if_match=if_match,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    todo_id: str,
    *,
    client: AuthenticatedClient,
    body: TodoUpdate,
    if_match: str,
    if_none_match: str | Unset = UNSET,
) -> Problem | Todo | None:
    """Change some fields of a todo (If-Match required)

    Args:
        todo_id (str):
        if_match (str):
        if_none_match (str | Unset):
        body (TodoUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Todo
    """

    return (
        await asyncio_detailed(
            todo_id=todo_id,
            client=client,
            body=body,
            if_match=if_match,
            if_none_match=if_none_match,
        )
    ).parsed
