"""The mixed load: client threads that create, read, replace, delete and list through Nginx.

Each thread owns the items it created (no other thread writes them), so the ledger can
say exactly what each item must hold. Reads check that too, as they go.
"""

import json
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx

from soak.calls import call, until_settled
from soak.ledger import DELETED, ItemRecord, Ledger
from soak.outcomes import Recorder

LIST_PAGE = 20
Operation = Callable[[], None]


@dataclass(frozen=True)
class Features:
    """Which optional parts of the API this build of Picus has (read from its served spec)."""

    replace: bool  # PUT /picus/{id}
    idempotency_keys: bool  # Idempotency-Key on POST /picus/put


def discover(base_url: str) -> Features:
    """Read the served spec: the soak exercises what exists and says what it left out."""
    spec = httpx.get(f"{base_url}/picus/openapi.json", timeout=10.0).raise_for_status().json()
    create_parameters = [
        _resolved(spec, parameter)
        for parameter in spec["paths"]["/put"]["post"].get("parameters", [])
    ]
    return Features(
        replace="put" in spec["paths"].get("/{id}", {}),
        idempotency_keys=any(
            parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key"
            for parameter in create_parameters
        ),
    )


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (one level is all the spec uses for parameters)."""
    reference = node.get("$ref")
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return node
    target: Any = spec
    for part in reference[2:].split("/"):
        target = target[part]
    return cast(dict[str, Any], target)


@dataclass(frozen=True)
class LoadSettings:
    """How the client threads talk to Picus."""

    base_url: str
    features: Features
    client_timeout: float
    retry_seconds: float


class LoadClient(threading.Thread):
    """One client: a loop of weighted random operations on its own items, until `stop`."""

    def __init__(
        self,
        index: int,
        settings: LoadSettings,
        ledger: Ledger,
        recorder: Recorder,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"soak-client-{index}", daemon=True)
        self.index = index
        self.settings = settings
        self.ledger = ledger
        self.recorder = recorder
        self.stop = stop
        self.random = random.Random(index)  # noqa: S311 - a reproducible mix, not a secret
        self.mine: list[ItemRecord] = []
        self.sequence = 0
        self.http: httpx.Client | None = None
        self.crash = ""  # why the loop ended early, if it did: the soak then fails

    def run(self) -> None:
        """Loop until told to stop; an operation in progress finishes its retries first."""
        timeout = httpx.Timeout(self.settings.client_timeout)
        try:
            with httpx.Client(base_url=self.settings.base_url, timeout=timeout) as http:
                self.http = http
                while not self.stop.is_set():
                    self._operation()()
        except Exception as exc:  # reported as a violation, never swallowed
            self.crash = f"{self.name} crashed: {type(exc).__name__}: {exc}"

    def _operation(self) -> Operation:
        if len(self.mine) < 3:
            return self.create
        choices: list[tuple[Operation, int]] = [
            (self.create, 30),
            (self.get, 25),
            (self.delete, 10),
            (self.list_page, 20),
        ]
        if self.settings.features.replace:
            choices.append((self.replace, 15))
        operations, weights = zip(*choices, strict=True)
        chosen: Operation = self.random.choices(operations, weights)[0]
        return chosen

    def _document(self) -> dict[str, object]:
        self.sequence += 1
        return {
            "client": self.index,
            "seq": self.sequence,
            "word": self.random.choice(["picus", "viridis", "canus", "pecker", "ü", "é\u2028"]),
            "nested": {"n": self.random.randint(-(2**40), 2**40), "ok": True, "none": None},
            "list": [self.sequence, "x" * self.random.randint(0, 64)],
        }

    def _call(
        self, op: str, method: str, url: str, item_id: int | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        assert self.http is not None
        return call(self.http, self.recorder, op, method, url, item_id, **kwargs)

    def create(self) -> None:
        """POST /picus/put; with keys, retried until acknowledged (a 201 is a promise)."""
        document = self._document()
        if self.settings.features.idempotency_keys:
            headers = {"Idempotency-Key": f"soak-{uuid.uuid4()}"}
            response = until_settled(
                lambda: self._call("create", "POST", "/picus/put", json=document, headers=headers),
                self.settings.retry_seconds,
            )
        else:
            response = self._call("create", "POST", "/picus/put", json=document)
        if response is None or response.status_code != 201:
            self.ledger.create_unacknowledged()
            return
        etag = response.headers.get("etag")
        self.mine.append(self.ledger.created(response.json()["id"], document, etag))

    def get(self, record: ItemRecord | None = None) -> None:
        """GET /picus/get/{id}: what comes back must be a state the ledger allows."""
        record = record or self.random.choice(self.mine)
        response = self._call("get", "GET", f"/picus/get/{record.item_id}", item_id=record.item_id)
        if response is None:
            return
        if response.status_code == 200:
            etag = response.headers.get("etag")
            self._observed(record, response.json()["data"], "read", etag)
        elif response.status_code == 404:
            self._observed(record, DELETED, "read")

    def replace(self) -> None:
        """PUT /picus/{id} with a new document (If-Match while the ETag is known), retried."""
        record = self.random.choice(self.mine)
        document = self._document()
        url = f"/picus/{record.item_id}"
        headers = {"If-Match": record.etag} if record.etag else {}
        attempts = 0

        def send() -> httpx.Response | None:
            nonlocal attempts
            attempts += 1
            return self._call(
                "update", "PUT", url, item_id=record.item_id, json=document, headers=headers
            )

        response = until_settled(send, self.settings.retry_seconds)
        if response is None:
            record.maybe(document)
        elif response.status_code == 200:
            self._acknowledged(record, document, response.headers.get("etag"))
            self.ledger.acknowledged(record.item_id, "updated", response.headers.get("etag"))
            self._observed(record, response.json()["data"], "update answer")
        elif response.status_code == 404:
            self._refused(record, response, "PUT")
        elif response.status_code == 412:
            self._precondition_failed(record, document, response, attempts > 1)

    def delete(self) -> None:
        """DELETE /picus/{id}, retried until acknowledged (204) or the item is gone (404)."""
        record = self.random.choice(self.mine)
        url = f"/picus/{record.item_id}"
        attempts = 0

        def send() -> httpx.Response | None:
            nonlocal attempts
            attempts += 1
            return self._call("delete", "DELETE", url)

        response = until_settled(send, self.settings.retry_seconds)
        if response is None:
            record.maybe(DELETED)
        elif response.status_code == 204:
            self._acknowledged(record, DELETED)
            self.ledger.acknowledged(record.item_id, "deleted")
        elif response.status_code == 404:
            if attempts > 1:
                # An earlier attempt got no answer, a 502 or a 503, yet may have committed
                # (a worker killed after its COMMIT): the item may be gone by its hand.
                record.maybe(DELETED)
            self._refused(record, response, "DELETE")

    def list_page(self) -> None:
        """GET /picus/list?limit=..&after=..: own items on the page must hold allowed states."""
        after = self.random.choice(self.mine).item_id - 1
        params = {"limit": LIST_PAGE, "after": after}
        response = self._call("list", "GET", "/picus/list", params=params)
        if response is None or response.status_code != 200:
            return
        page = {item["id"]: item["data"] for item in response.json()}
        # A short page is the end of the list: every own item after `after` is on it.
        last = max(page) if len(page) == LIST_PAGE else max(r.item_id for r in self.mine)
        for record in list(self.mine):
            if after < record.item_id <= last:
                self._observed(record, page.get(record.item_id, DELETED), "list")

    def _acknowledged(self, record: ItemRecord, state: object, etag: str | None = None) -> None:
        record.settle(state, etag)
        if state is DELETED:
            self.mine.remove(record)

    def _refused(self, record: ItemRecord, response: httpx.Response, method: str) -> None:
        """A 404 to a write: right only if the item may already be gone (an earlier attempt)."""
        if not record.may_be(DELETED):
            self.ledger.wrong_answer(
                f"id {record.item_id}: {method} answered 404 but the item existed "
                f"(X-Request-ID {response.headers.get('x-request-id', '?')})"
            )
        record.settle(DELETED)
        if record in self.mine:
            self.mine.remove(record)

    def _precondition_failed(
        self, record: ItemRecord, document: object, response: httpx.Response, retried: bool
    ) -> None:
        """A 412: right only if an earlier attempt of this PUT took effect and moved the tag.

        Nobody else writes this item, so with the tag the ledger knew, a first attempt must
        not be refused. After an unanswered attempt, a read settles what happened.
        """
        if not retried:
            self.ledger.wrong_answer(
                f"id {record.item_id}: PUT with the current ETag answered 412 "
                f"(X-Request-ID {response.headers.get('x-request-id', '?')})"
            )
        record.maybe(document)
        self.get(record)

    def _observed(
        self, record: ItemRecord, state: object, how: str, etag: str | None = None
    ) -> None:
        """A read (or a refusal) showed the item's state: it must be one the ledger allows."""
        if not record.may_be(state):
            shown = "no item" if state is DELETED else json.dumps(state)[:120]
            self.ledger.lose(
                f"id {record.item_id}: {how} showed {shown}, not what was acknowledged"
            )
        record.settle(state, etag)
        if state is DELETED and record in self.mine:
            self.mine.remove(record)
