"""Item operations: parse the request, call storage, shape the answer."""

from collections.abc import Iterator

from flask import Response

from picus.handlers.context import request_document, store
from picus.representation import item_json, items_json_stream

JSON = "application/json"


def create_item() -> Response:
    """POST /picus/put: store the document, answer 201 with its id and Location."""
    item_id = store().create(request_document())
    headers = {"Location": f"/picus/get/{item_id}"}
    return Response(b'{"id":%d}' % item_id, 201, headers=headers, mimetype=JSON)


def get_item(id_: int) -> Response:
    """GET /picus/get/{id}."""
    return Response(item_json(store().get(id_)), 200, mimetype=JSON)


def list_items(limit: int | None = None, after: int = 0) -> Response:
    """GET /picus/list: everything streamed, or one keyset page with a `Link` to the next."""
    if limit is None:
        body: Iterator[bytes] = items_json_stream(store().stream(after))
        return Response(body, 200, mimetype=JSON)
    page, more = store().page(after, limit)
    headers = {}
    if more:
        headers["Link"] = f'</picus/list?after={page[-1].id}&limit={limit}>; rel="next"'
    return Response(items_json_stream(page), 200, headers=headers, mimetype=JSON)


def delete_item(id_: int) -> Response:
    """DELETE /picus/{id}: 204 with no body (and so no Content-Type)."""
    store().delete(id_)
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
