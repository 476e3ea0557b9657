"""Reading a Server-Sent Events answer as a client does, with a bound on every wait."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx


@dataclass
class Event:
    """One event (or, with `comment`, one comment line)."""

    id: str | None = None
    event: str | None = None
    data: str = ""
    retry: int | None = None
    comment: str | None = None
    fields: list[str] = field(default_factory=list)

    @property
    def change(self) -> dict[str, object]:
        change: dict[str, object] = json.loads(self.data)
        return change


def events(response: httpx.Response) -> Iterator[Event]:
    """The events of a streamed answer, as they arrive (per the SSE parsing rules we use)."""
    current = Event()
    for line in response.iter_lines():
        if line == "":
            if current.fields:
                yield current
            current = Event()
            continue
        if line.startswith(":"):
            yield Event(comment=line[1:].strip(), fields=["comment"])
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        current.fields.append(name)
        if name == "id":
            current.id = value
        elif name == "event":
            current.event = value
        elif name == "data":
            current.data = f"{current.data}\n{value}" if current.data else value
        elif name == "retry":
            current.retry = int(value)


def take_changes(stream: Iterator[Event], count: int, within: float = 10.0) -> list[Event]:
    """The next `count` change events (comments and `retry` skipped), or fail after `within` s."""
    deadline = time.monotonic() + within
    found: list[Event] = []
    for event in stream:
        if event.event is not None:
            found.append(event)
            if len(found) == count:
                return found
        assert time.monotonic() < deadline, f"only {len(found)} of {count} changes arrived"
    raise AssertionError(f"the stream ended after {len(found)} of {count} changes")
