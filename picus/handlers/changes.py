"""The change feed: one page of JSON, or followed live as Server-Sent Events.

The same position (`since`, or `Last-Event-ID` which wins) starts both. Which one a client
gets is its `Accept` header's choice: `text/event-stream` for the stream (what a browser's
EventSource sends), JSON otherwise.
"""

import asyncio
from collections.abc import AsyncIterator

from connexion.exceptions import ProblemException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from picus.errors import StorageError
from picus.feed import ChangeHub
from picus.handlers.context import services
from picus.http.problems import BadRequest
from picus.storage.records import change_json

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
LATEST_HEADER = "Picus-Changes-Latest"
_MAX_SEQ = 2**63 - 1


async def list_changes(request: Request) -> Response:
    """GET /picus/changes: the changes after a position, as JSON or as an event stream."""
    stream = _wants_event_stream(request.headers.get("Accept"))
    since = _position(request)
    changes = services(request).changes
    await services(request).hub.catch_up()  # the reader's own writes are numbered first
    purged, latest = await changes.marks()  # also: an unreachable database is a 503 here
    headers = {LATEST_HEADER: str(latest)}
    if since < purged:
        raise ProblemException(
            status=410,
            title="Gone",
            detail=f"Changes up to seq {purged} are no longer kept; list the items again "
            f"and follow the feed from the {LATEST_HEADER} header.",
            headers=headers,
        )
    if stream:
        settings = services(request).settings
        events = _events(
            services(request).hub, since, settings.changes_keepalive, settings.changes_retry_ms
        )
        headers |= {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, headers=headers, media_type=EVENT_STREAM)
    limit = int(request.query_params.get("limit", 100))
    page, more = await changes.after(since, limit)
    if more:
        headers["Link"] = f'</picus/changes?since={page[-1].seq}&limit={limit}>; rel="next"'
    body = "[" + ",".join(change_json(change) for change in page) + "]"
    return Response(body, headers=headers, media_type=JSON)


def _position(request: Request) -> int:
    """Where the client is: Last-Event-ID (an EventSource resuming) wins over `since`."""
    last_event_id = request.headers.get("Last-Event-ID")
    if last_event_id is None:
        return int(request.query_params.get("since", 0))
    text = last_event_id.strip()
    if not text.isascii() or not text.isdigit() or int(text) > _MAX_SEQ:
        raise BadRequest("Last-Event-ID must be the seq of a change (a whole number).")
    return int(text)


def _wants_event_stream(accept: str | None) -> bool:
    """True for an event stream, False for JSON; 406 when `Accept` allows neither.

    The stream only when `text/event-stream` is named and JSON is not preferred to it.
    """
    if accept is None or not accept.strip():
        return False
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media_type.lower()] = max(q, quality.get(media_type.lower(), 0.0))
    stream = max(quality.get(EVENT_STREAM, 0.0), quality.get("text/*", 0.0) * 0.5)
    json = max(quality.get(JSON, 0.0), quality.get("application/*", 0.0), quality.get("*/*", 0.0))
    if stream == 0.0 and json == 0.0:
        raise ProblemException(
            status=406,
            title="Not Acceptable",
            detail="The change feed is served as application/json or text/event-stream.",
        )
    return quality.get(EVENT_STREAM, 0.0) > 0.0 and stream >= json


async def _events(
    hub: ChangeHub, position: int, keepalive: float, retry_ms: int
) -> AsyncIterator[str]:
    """Every change after `position`, then each new one, until the client or server goes.

    Waiting holds no database connection: the hub wakes the stream when the head moves.
    A database that fails mid-stream ends the stream; the client resumes from its last id.
    """
    yield f"retry: {retry_ms}\n\n"
    while not hub.closing:
        advanced = hub.advanced  # taken before reading, so no wake-up is missed
        try:
            changes = await hub.changes_after(position)
        except StorageError:
            return
        if changes:
            yield "".join(
                f"id: {c.seq}\nevent: {c.op}\ndata: {change_json(c)}\n\n" for c in changes
            )
            position = changes[-1].seq
            continue
        try:
            async with asyncio.timeout(keepalive):
                await advanced.wait()
        except TimeoutError:
            yield ": keep-alive\n\n"
