from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.created import Created
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: Any,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/put",
    }

    _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Created | Problem | None:
    if response.status_code == 201:
        response_201 = Created.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Created | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    idempotency_key: str | Unset = UNSET,
) -> Response[Created | Problem]:
    """Store a JSON document

     Stores the request body (any JSON value) as a new item and answers with its id;
    `Location` points at `GET /picus/get/{id}`.

    With an `Idempotency-Key`, the document is stored at most once per key: a retry with
    the same key and an equal body (as a JSON value) answers like the first request did,
    with the same id, and stores nothing; the same key with another body is `422`.
    Keys are remembered for 24 hours by default (`PICUS_IDEMPOTENCY_KEY_TTL`, seconds).

    Args:
        idempotency_key (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Created | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    idempotency_key: str | Unset = UNSET,
) -> Created | Problem | None:
    """Store a JSON document

     Stores the request body (any JSON value) as a new item and answers with its id;
    `Location` points at `GET /picus/get/{id}`.

    With an `Idempotency-Key`, the document is stored at most once per key: a retry with
    the same key and an equal body (as a JSON value) answers like the first request did,
    with the same id, and stores nothing; the same key with another body is `422`.
    Keys are remembered for 24 hours by default (`PICUS_IDEMPOTENCY_KEY_TTL`, seconds).

    Args:
        idempotency_key (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Created | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    idempotency_key: str | Unset = UNSET,
) -> Response[Created | Problem]:
    """Store a JSON document

     Stores the request body (any JSON value) as a new item and answers with its id;
    `Location` points at `GET /picus/get/{id}`.

    With an `Idempotency-Key`, the document is stored at most once per key: a retry with
    the same key and an equal body (as a JSON value) answers like the first request did,
    with the same id, and stores nothing; the same key with another body is `422`.
    Keys are remembered for 24 hours by default (`PICUS_IDEMPOTENCY_KEY_TTL`, seconds).

    Args:
        idempotency_key (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Created | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    idempotency_key: str | Unset = UNSET,
) -> Created | Problem | None:
    """Store a JSON document

     Stores the request body (any JSON value) as a new item and answers with its id;
    `Location` points at `GET /picus/get/{id}`.

    With an `Idempotency-Key`, the document is stored at most once per key: a retry with
    the same key and an equal body (as a JSON value) answers like the first request did,
    with the same id, and stores nothing; the same key with another body is `422`.
    Keys are remembered for 24 hours by default (`PICUS_IDEMPOTENCY_KEY_TTL`, seconds).

    Args:
        idempotency_key (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Created | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
