"""Item operations: parse the request, call storage, shape the answer."""

from collections.abc import Iterator

from flask import Response, request

from picus.etags import etag, if_match_versions, none_match
from picus.handlers.context import idempotent_creates, principal, request_document, store
from picus.observability.metrics import item_created, item_deleted
from picus.representation import item_json, items_json_stream, json_array
from picus.storage.items import INITIAL_VERSION, StoredItem

JSON = "application/json"


def create_item() -> Response:
    """POST /picus/put: store the document (once per Idempotency-Key), 201 with id and Location."""
    key = request.headers.get("Idempotency-Key")
    headers = {"ETag": etag(INITIAL_VERSION)}
    if key is None:
        item_id = store().create(request_document())
        item_created()
    else:
        creation = idempotent_creates().create(request_document(), key, principal())
        item_id = creation.item_id
        if creation.replayed:
            headers["Idempotent-Replayed"] = "true"
        else:
            item_created()
    headers["Location"] = f"/picus/get/{item_id}"
    return Response(b'{"id":%d}' % item_id, 201, headers=headers, mimetype=JSON)


def get_item(id_: int) -> Response:
    """GET /picus/get/{id}: the item with its ETag, or 304 if If-None-Match names it."""
    item = store().get(id_)
    if none_match(request.headers.get("If-None-Match"), item.version):
        return _without_body(304, {"ETag": etag(item.version)})
    return _item_response(item)


def replace_item(id_: int) -> Response:
    """PUT /picus/{id}: replace the document, if If-Match (when sent) names its version."""
    expected = if_match_versions(request.headers.get("If-Match"))
    return _item_response(store().replace(id_, request_document(), expected))


def _item_response(item: StoredItem) -> Response:
    return Response(item_json(item), 200, headers={"ETag": etag(item.version)}, mimetype=JSON)


def list_items(limit: int | None = None, after: int = 0) -> Response:
    """GET /picus/list: everything streamed, or one keyset page with a `Link` to the next."""
    if limit is None:
        return Response(_every_item(after), 200, mimetype=JSON)
    page, more = store().page(after, limit)
    headers = {}
    if more:
        headers["Link"] = f'</picus/list?after={page[-1].id}&limit={limit}>; rel="next"'
    return Response(items_json_stream(page), 200, headers=headers, mimetype=JSON)


def _every_item(after: int) -> Iterator[bytes]:
    """The whole list; on PostgreSQL the database writes each Item's JSON (much cheaper)."""
    if store().writes_item_json:
        return json_array(store().stream_json(after))
    return items_json_stream(store().stream(after))


def delete_item(id_: int) -> Response:
    """DELETE /picus/{id}: 204 with no body, if If-Match (when sent) names its version."""
    store().delete(id_, if_match_versions(request.headers.get("If-Match")))
    item_deleted()
    return _without_body(204)


def _without_body(status: int, headers: dict[str, str] | None = None) -> Response:
    """An answer with no body, and so no Content-Type."""
    response = Response(status=status, headers=headers)
    del response.headers["Content-Type"]
    return response
