"""After the faults: every acknowledged write must be there, read back through Nginx.

Every item is checked from the paged list (all of them, in a few requests) and a sample is
also read one by one; an item must hold a state its ledger allows: the acknowledged
document (the last acknowledged update wins), or nothing once a delete was acknowledged.
"""

import random

import httpx

from soak.calls import call
from soak.ledger import DELETED, Ledger
from soak.outcomes import Recorder

PAGE = 1000
SAMPLE = 100


def verify(base_url: str, ledger: Ledger, recorder: Recorder, timeout: float) -> int:
    """Check every item in the ledger; record losses in it. Return how many were checked."""
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        stored = _everything(http, recorder)
        for record in ledger.items.values():
            state = stored.get(record.item_id, DELETED)
            if not record.may_be(state):
                ledger.lose(f"id {record.item_id}: {_describe(state)} after the soak")
        sample = random.Random(0).sample(  # noqa: S311 - a sample, not a secret
            sorted(ledger.items), min(SAMPLE, len(ledger.items))
        )
        for item_id in sample:
            path = f"/picus/get/{item_id}"
            response = call(http, recorder, "verify get", "GET", path, item_id=item_id)
            if response is None or response.status_code not in {200, 404}:
                ledger.lose(f"id {item_id}: could not be read after the soak")
                continue
            state = response.json()["data"] if response.status_code == 200 else DELETED
            if not ledger.items[item_id].may_be(state):
                ledger.lose(f"id {item_id}: GET shows {_describe(state)} after the soak")
    return len(ledger.items)


def _everything(http: httpx.Client, recorder: Recorder) -> dict[int, object]:
    stored: dict[int, object] = {}
    after = 0
    while True:
        params = {"limit": PAGE, "after": after}
        response = call(http, recorder, "verify list", "GET", "/picus/list", params=params)
        if response is None or response.status_code != 200:
            raise RuntimeError("the final listing failed; see the answers table")
        page = response.json()
        stored.update((item["id"], item["data"]) for item in page)
        if len(page) < PAGE:
            return stored
        after = page[-1]["id"]


def _describe(state: object) -> str:
    return "missing" if state is DELETED else f"holding {str(state)[:100]}"
