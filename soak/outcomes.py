"""Every request the soak made, what came back, and whether the answer was well-formed.

An answer is malformed when its body does not have the shape its status promises: a 2xx
that is not the contract's JSON, an error that is not an RFC 9457 problem whose `status`
matches, a 503 without Retry-After. A request with no answer records why (timeout, or the
connection closed); the judge decides what is allowed when.
"""

import json
import threading
from dataclasses import dataclass, field

import httpx

# Statuses the soak's own requests may get: a fault window is allowed 502 and 503 too.
UNAVAILABLE = frozenset({502, 503})
TIMEOUT = "timeout"
NO_ANSWER = "no answer"


@dataclass(frozen=True)
class Outcome:
    """One request: when it was sent and answered (monotonic seconds), and what came back."""

    op: str
    sent: float
    answered: float
    status: int | None  # None: no HTTP answer at all
    failure: str = ""  # TIMEOUT, NO_ANSWER..., or why the answer is malformed

    @property
    def label(self) -> str:
        """The column this outcome is counted in: its status, or why there was none."""
        if self.status is not None:
            return str(self.status)
        return TIMEOUT if self.failure.startswith(TIMEOUT) else NO_ANSWER

    @property
    def succeeded(self) -> bool:
        """A well-formed answer that is not an error."""
        return self.status is not None and self.status < 500 and not self.failure


@dataclass
class Recorder:
    """Thread-safe list of outcomes."""

    outcomes: list[Outcome] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        """Keep one outcome."""
        with self._lock:
            self.outcomes.append(outcome)

    def snapshot(self) -> list[Outcome]:
        """A copy, sorted by the time each request was sent."""
        with self._lock:
            return sorted(self.outcomes, key=lambda outcome: outcome.sent)


def malformed(op: str, response: httpx.Response, item_id: int | None = None) -> str:
    """Why this answer breaks the contract's shapes, or "" if it does not."""
    status = response.status_code
    if status >= 400:
        return _problem_shape(response)
    if status == 204:
        return "204 with a body" if response.content else ""
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{status} body is not JSON: {response.content[:80]!r}"
    op = op.split()[-1]  # "verify get" has the shape of "get"
    if op == "create":
        return _created_shape(response, body)
    if op in {"get", "update"}:
        return _item_shape(body, item_id)
    if op in {"list", "burst"}:
        if not isinstance(body, list):
            return "list answer is not an array"
        return next(filter(None, (_item_shape(item, None) for item in body)), "")
    return ""


def _problem_shape(response: httpx.Response) -> str:
    status = response.status_code
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type != "application/problem+json":
        return f"{status} with Content-Type {media_type!r}, not a problem"
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{status} problem is not JSON"
    if not isinstance(body, dict) or body.get("status") != status:
        return f"{status} problem is {str(body)[:80]}"
    if not isinstance(body.get("title"), str):
        return f"{status} problem without a title"
    if status == 503 and not response.headers.get("retry-after", "").isdigit():
        return "503 without Retry-After"
    return ""


def _created_shape(response: httpx.Response, body: object) -> str:
    if response.status_code != 201:
        return ""
    if not isinstance(body, dict) or set(body) != {"id"} or not _is_id(body["id"]):
        return f"201 body is not {{'id': ...}}: {body!r}"
    if response.headers.get("location") != f"/picus/get/{body['id']}":
        return f"201 Location is {response.headers.get('location')!r}"
    return ""


def _item_shape(body: object, item_id: int | None) -> str:
    if not isinstance(body, dict) or not {"id", "data", "created_at", "updated_at"} <= set(body):
        return f"not an item: {str(body)[:80]}"
    if not _is_id(body["id"]) or (item_id is not None and body["id"] != item_id):
        return f"item id {body['id']!r}, asked for {item_id}"
    return ""


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
