from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.change import Change
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    since: int | Unset = UNSET,
    limit: int | Unset = 100,
    last_event_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id

    params: dict[str, Any] = {}

    params["since"] = since

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/changes",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | list[Change] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = Change.from_dict(response_200_item_data)

            response_200.append(response_200_item)

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

    if response.status_code == 406:
        response_406 = Problem.from_dict(response.json())

        return response_406

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())

        return response_410

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[Change]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    since: int | Unset = UNSET,
    limit: int | Unset = 100,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | list[Change]]:
    """The change feed, as a page of JSON or followed live as Server-Sent Events

     Every committed create, replace, patch and delete is one change, numbered by `seq`
    in commit order: a reader that has seen `seq = S` never later meets an unseen change
    with `seq <= S`. Numbers may skip.

    - `Accept` absent, `*/*` or `application/json`: the changes after `since`, at most
      `limit`, with a `Link` (`rel="next"`) while more remain.
    - `Accept: text/event-stream`: every change after `since` (or after `Last-Event-ID`,
      which wins, so a browser's `EventSource` resumes by itself), then each new change
      as it commits, for as long as the client stays. Each event is `id: <seq>`,
      `event: <op>`, `data: <the change as JSON>`; a `: keep-alive` comment is sent while
      nothing happens.

    Changes are kept for `PICUS_CHANGES_RETENTION` (7 days by default). A position older
    than that is `410`: list the items again, and follow from the `Picus-Changes-Latest`
    that `GET /picus/list` (or this call) answered.

    Args:
        since (int | Unset):  Example: 0.
        limit (int | Unset):  Default: 100.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Change]]
    """

    kwargs = _get_kwargs(
        since=since,
        limit=limit,
        last_event_id=last_event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    since: int | Unset = UNSET,
    limit: int | Unset = 100,
    last_event_id: str | Unset = UNSET,
) -> Problem | list[Change] | None:
    """The change feed, as a page of JSON or followed live as Server-Sent Events

     Every committed create, replace, patch and delete is one change, numbered by `seq`
    in commit order: a reader that has seen `seq = S` never later meets an unseen change
    with `seq <= S`. Numbers may skip.

    - `Accept` absent, `*/*` or `application/json`: the changes after `since`, at most
      `limit`, with a `Link` (`rel="next"`) while more remain.
    - `Accept: text/event-stream`: every change after `since` (or after `Last-Event-ID`,
      which wins, so a browser's `EventSource` resumes by itself), then each new change
      as it commits, for as long as the client stays. Each event is `id: <seq>`,
      `event: <op>`, `data: <the change as JSON>`; a `: keep-alive` comment is sent while
      nothing happens.

    Changes are kept for `PICUS_CHANGES_RETENTION` (7 days by default). A position older
    than that is `410`: list the items again, and follow from the `Picus-Changes-Latest`
    that `GET /picus/list` (or this call) answered.

    Args:
        since (int | Unset):  Example: 0.
        limit (int | Unset):  Default: 100.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Change]
    """

    return sync_detailed(
        client=client,
        since=since,
        limit=limit,
        last_event_id=last_event_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    since: int | Unset = UNSET,
    limit: int | Unset = 100,
    last_event_id: str | Unset = UNSET,
) -> Response[Problem | list[Change]]:
    """The change feed, as a page of JSON or followed live as Server-Sent Events

     Every committed create, replace, patch and delete is one change, numbered by `seq`
    in commit order: a reader that has seen `seq = S` never later meets an unseen change
    with `seq <= S`. Numbers may skip.

    - `Accept` absent, `*/*` or `application/json`: the changes after `since`, at most
      `limit`, with a `Link` (`rel="next"`) while more remain.
    - `Accept: text/event-stream`: every change after `since` (or after `Last-Event-ID`,
      which wins, so a browser's `EventSource` resumes by itself), then each new change
      as it commits, for as long as the client stays. Each event is `id: <seq>`,
      `event: <op>`, `data: <the change as JSON>`; a `: keep-alive` comment is sent while
      nothing happens.

    Changes are kept for `PICUS_CHANGES_RETENTION` (7 days by default). A position older
    than that is `410`: list the items again, and follow from the `Picus-Changes-Latest`
    that `GET /picus/list` (or this call) answered.

    Args:
        since (int | Unset):  Example: 0.
        limit (int | Unset):  Default: 100.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[Change]]
    """

    kwargs = _get_kwargs(
        since=since,
        limit=limit,
        last_event_id=last_event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    since: int | Unset = UNSET,
    limit: int | Unset = 100,
    last_event_id: str | Unset = UNSET,
) -> Problem | list[Change] | None:
    """The change feed, as a page of JSON or followed live as Server-Sent Events

     Every committed create, replace, patch and delete is one change, numbered by `seq`
    in commit order: a reader that has seen `seq = S` never later meets an unseen change
    with `seq <= S`. Numbers may skip.

    - `Accept` absent, `*/*` or `application/json`: the changes after `since`, at most
      `limit`, with a `Link` (`rel="next"`) while more remain.
    - `Accept: text/event-stream`: every change after `since` (or after `Last-Event-ID`,
      which wins, so a browser's `EventSource` resumes by itself), then each new change
      as it commits, for as long as the client stays. Each event is `id: <seq>`,
      `event: <op>`, `data: <the change as JSON>`; a `: keep-alive` comment is sent while
      nothing happens.

    Changes are kept for `PICUS_CHANGES_RETENTION` (7 days by default). A position older
    than that is `410`: list the items again, and follow from the `Picus-Changes-Latest`
    that `GET /picus/list` (or this call) answered.

    Args:
        since (int | Unset):  Example: 0.
        limit (int | Unset):  Default: 100.
        last_event_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[Change]
    """

    return (
        await asyncio_detailed(
            client=client,
            since=since,
            limit=limit,
            last_event_id=last_event_id,
        )
    ).parsed
