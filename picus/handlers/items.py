"""Item operations: read the (validated) request, call storage, shape the answer.

Connexion has routed and validated each request against the spec before it gets here
(picus.http.connexion_fastpath), so parameters are read from the request as they are.
"""

import json
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from picus.documents import json_text, merge_patch
from picus.handlers.changes import LATEST_HEADER
from picus.handlers.context import principal, services
from picus.http.body_validator import request_document
from picus.http.etags import etag, if_match_versions, none_match
from picus.http.problems import ContentTooLarge
from picus.http.representation import items_json, json_array
from picus.observability.metrics import item_created, item_deleted
from picus.storage.items import INITIAL_VERSION, StoredItem
from picus.storage.records import item_json

JSON = "application/json"


async def create_item(request: Request) -> Response:
    """POST /picus/put: store the document (once per Idempotency-Key), 201 with id and Location."""
    document = request_document(request)
    key = request.headers.get("Idempotency-Key")
    headers = {"ETag": etag(INITIAL_VERSION)}
    if key is None:
        item_id = await services(request).store.create(document.text)
        item_created()
    else:
        creation = await services(request).idempotent_creates.create(
            document.text, document.fingerprint(), key, principal(request)
        )
        item_id = creation.item_id
        if creation.replayed:
            headers["Idempotent-Replayed"] = "true"
        else:
            item_created()
    headers["Location"] = f"/picus/get/{item_id}"
    return Response(b'{"id":%d}' % item_id, 201, headers=headers, media_type=JSON)


async def get_item(request: Request) -> Response:
    """GET /picus/get/{id}: the item with its ETag, or 304 if If-None-Match names it."""
    item = await services(request).store.get(request.path_params["id"])
    if none_match(request.headers.get("If-None-Match"), item.version):
        return Response(status_code=304, headers={"ETag": etag(item.version)})
    return _item_response(item)


async def replace_item(request: Request) -> Response:
    """PUT /picus/{id}: replace the document, if If-Match (when sent) names its version."""
    expected = if_match_versions(request.headers.get("If-Match"))
    document = request_document(request)
    item = await services(request).store.replace(request.path_params["id"], document.text, expected)
    return _item_response(item)


async def patch_item(request: Request) -> Response:
    """PATCH /picus/{id}: merge a JSON Merge Patch into the document, atomically."""
    expected = if_match_versions(request.headers.get("If-Match"))
    patch = request_document(request).value
    limit = services(request).settings.max_body_bytes

    def patched(stored_json: str) -> str:
        merged = json_text(merge_patch(json.loads(stored_json, parse_float=Decimal), patch))
        if len(merged.encode()) > limit:
            raise ContentTooLarge(limit, what="The patched document")
        return merged

    item = await services(request).store.patch(request.path_params["id"], patched, expected)
    return _item_response(item)


def _item_response(item: StoredItem) -> Response:
    return Response(item_json(item), 200, headers={"ETag": etag(item.version)}, media_type=JSON)


async def list_items(request: Request) -> Response:
    """GET /picus/list: everything streamed, or one keyset page with a `Link` to the next."""
    query = request.query_params
    after = int(query.get("after", 0))
    store = services(request).store
    # Taken before the items are read: following the feed from it misses nothing.
    headers = {LATEST_HEADER: str(services(request).hub.tail)}
    if "limit" not in query:
        chunks = await store.list_json(after)  # the first chunk is read here: 503 in time
        return StreamingResponse(json_array(chunks), headers=headers, media_type=JSON)
    limit = int(query["limit"])
    page, more = await store.page(after, limit)
    if more:
        headers["Link"] = f'</picus/list?after={page[-1].id}&limit={limit}>; rel="next"'
    return Response(items_json(page), 200, headers=headers, media_type=JSON)


async def delete_item(request: Request) -> Response:
    """DELETE /picus/{id}: 204 with no body, if If-Match (when sent) names its version."""
    expected = if_match_versions(request.headers.get("If-Match"))
    await services(request).store.delete(request.path_params["id"], expected)
    item_deleted()
    return Response(status_code=204)
