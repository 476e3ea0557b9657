from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.item import Item
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: int,
    *,
    body: Any,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body

    headers["Content-Type"] = "application/merge-patch+json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Item | Problem | None:
    if response.status_code == 200:
        response_200 = Item.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Item | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: int,
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    if_match: str | Unset = UNSET,
) -> Response[Item | Problem]:
    """Change part of a stored item's document (JSON Merge Patch)

     The body is an RFC 7396 JSON Merge Patch, merged into the stored document in one
    atomic step: object members are merged recursively, `null` removes a member, and a
    patch that is not an object replaces the document (an object patch on a document
    that is not an object starts from `{}`). Numbers and strings keep full fidelity, as
    for `PUT`. With `If-Match`, the item is patched only if it still has one of the named
    tags (`412` otherwise). Each patch is one `updated` change in the feed.

    Args:
        id (int):  Example: 1.
        if_match (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Item | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: int,
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    if_match: str | Unset = UNSET,
) -> Item | Problem | None:
    """Change part of a stored item's document (JSON Merge Patch)

     The body is an RFC 7396 JSON Merge Patch, merged into the stored document in one
    atomic step: object members are merged recursively, `null` removes a member, and a
    patch that is not an object replaces the document (an object patch on a document
    that is not an object starts from `{}`). Numbers and strings keep full fidelity, as
    for `PUT`. With `If-Match`, the item is patched only if it still has one of the named
    tags (`412` otherwise). Each patch is one `updated` change in the feed.

    Args:
        id (int):  Example: 1.
        if_match (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Item | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    id: int,
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    if_match: str | Unset = UNSET,
) -> Response[Item | Problem]:
    """Change part of a stored item's document (JSON Merge Patch)

     The body is an RFC 7396 JSON Merge Patch, merged into the stored document in one
    atomic step: object members are merged recursively, `null` removes a member, and a
    patch that is not an object replaces the document (an object patch on a document
    that is not an object starts from `{}`). Numbers and strings keep full fidelity, as
    for `PUT`. With `If-Match`, the item is patched only if it still has one of the named
    tags (`412` otherwise). Each patch is one `updated` change in the feed.

    Args:
        id (int):  Example: 1.
        if_match (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Item | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: int,
    *,
    client: AuthenticatedClient | Client,
    body: Any,
    if_match: str | Unset = UNSET,
) -> Item | Problem | None:
    """Change part of a stored item's document (JSON Merge Patch)

     The body is an RFC 7396 JSON Merge Patch, merged into the stored document in one
    atomic step: object members are merged recursively, `null` removes a member, and a
    patch that is not an object replaces the document (an object patch on a document
    that is not an object starts from `{}`). Numbers and strings keep full fidelity, as
    for `PUT`. With `If-Match`, the item is patched only if it still has one of the named
    tags (`412` otherwise). Each patch is one `updated` change in the feed.

    Args:
        id (int):  Example: 1.
        if_match (str | Unset):
        body (Any): Any JSON value (object, array, string, number, boolean or null). Example:
            {'name': 'picus', 'tags': ['woodpecker']}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Item | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
