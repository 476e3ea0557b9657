"""One HTTP request, recorded; and writes that retry until Picus acknowledges or refuses them.

A write that got no answer (or 502/503) may or may not have happened. Retrying it is
safe here: PUT replaces with the same document, DELETE of a deleted item is a 404, and a
create is retried only with its Idempotency-Key (without keys a create is never retried).
Retries honour Retry-After, capped so the soak sees recovery within a second.
"""

import time
from collections.abc import Callable
from typing import Any

import httpx

from soak.outcomes import NO_ANSWER, TIMEOUT, Outcome, Recorder, malformed

RETRY_AFTER_CAP = 1.0
PAUSE_WITHOUT_RETRY_AFTER = 0.2
KEY_BUSY = 409  # an Idempotency-Key whose first request is still running


def call(
    http: httpx.Client,
    recorder: Recorder,
    op: str,
    method: str,
    url: str,
    item_id: int | None = None,
    **kwargs: Any,
) -> httpx.Response | None:
    """Send one request and record it; the response if it is well-formed, else None."""
    sent = time.monotonic()
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        recorder.add(Outcome(op, sent, time.monotonic(), None, f"{TIMEOUT}: {exc!r}"))
        return None
    except httpx.TransportError as exc:
        recorder.add(Outcome(op, sent, time.monotonic(), None, f"{NO_ANSWER}: {exc!r}"))
        return None
    problem = malformed(op, response, item_id)
    recorder.add(Outcome(op, sent, time.monotonic(), response.status_code, problem))
    return None if problem else response


def until_settled(
    send: Callable[[], httpx.Response | None], retry_seconds: float
) -> httpx.Response | None:
    """Repeat `send` until a well-formed 2xx or 4xx (not 409) comes back; None at the deadline."""
    deadline = time.monotonic() + retry_seconds
    while True:
        response = send()
        if response is not None and _settled(response.status_code):
            return response
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause_before_retry(response))


def _settled(status: int) -> bool:
    return status < 500 and status != KEY_BUSY


def pause_before_retry(response: httpx.Response | None) -> float:
    """Retry-After when the answer has one (capped), else a short fixed pause."""
    retry_after = response.headers.get("retry-after", "") if response is not None else ""
    if retry_after.isdigit():
        return min(float(retry_after), RETRY_AFTER_CAP)
    return PAUSE_WITHOUT_RETRY_AFTER
