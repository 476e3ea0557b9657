"""The change feed followed through the whole soak, as a client keeping a cache would.

A thread follows `GET /picus/changes` as Server-Sent Events through Nginx from the soak's
start, and reconnects with `Last-Event-ID` whenever the stream drops (a worker killed,
Nginx reloaded, PostgreSQL restarted). At the end the JSON form of the feed is read from
the same start: that is the truth. The followed changes must be exactly the truth (none
missed, none twice, same order), and every write the soak's clients saw acknowledged must
be in it exactly once.
"""

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from soak.ledger import Ledger

STREAM = {"Accept": "text/event-stream"}
RECONNECT_S = 0.2
# A read waits at most this long: the server sends a keep-alive every 15 s.
READ_TIMEOUT_S = 30.0


def newest_position(base_url: str) -> int:
    """The feed's newest seq now (where following starts)."""
    answer = httpx.get(f"{base_url}/picus/changes", params={"since": 2**62}, timeout=10)
    answer.raise_for_status()
    return int(answer.headers["picus-changes-latest"])


@dataclass(eq=False)  # a thread is hashed by identity
class FeedFollower(threading.Thread):
    """Follows the event stream from `start` until `stop` is set; keeps what it saw."""

    base_url: str
    start_seq: int
    stop: threading.Event = field(default_factory=threading.Event)
    seen: list[dict[str, object]] = field(default_factory=list)
    reconnects: int = 0
    failure: str | None = None

    def __post_init__(self) -> None:
        super().__init__(name="feed-follower", daemon=True)

    @property
    def position(self) -> int:
        return int(str(self.seen[-1]["seq"])) if self.seen else self.start_seq

    def run(self) -> None:
        timeout = httpx.Timeout(10.0, read=READ_TIMEOUT_S)
        with httpx.Client(base_url=self.base_url, timeout=timeout) as http:
            while not self.stop.is_set():
                headers = {**STREAM, "Last-Event-ID": str(self.position)}
                try:
                    with http.stream("GET", "/picus/changes", headers=headers) as response:
                        if response.status_code == 200:
                            self._read(response)
                        else:
                            response.read()  # 502/503 during a fault: try again
                except httpx.HTTPError:
                    pass  # the connection dropped: resume from the last event
                if not self.stop.is_set():
                    self.reconnects += 1
                    self.stop.wait(RECONNECT_S)

    def _read(self, response: httpx.Response) -> None:
        for line in response.iter_lines():
            if self.stop.is_set():
                return
            if line.startswith("data: "):
                self.seen.append(json.loads(line.removeprefix("data: ")))

    def finish(self, head: int, within: float) -> None:
        """Let the follower reach `head` (or give up after `within` s), then stop it."""
        deadline = time.monotonic() + within
        while self.position < head and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.1)
        self.stop.set()
        self.join(READ_TIMEOUT_S + 5)


def truth(base_url: str, since: int) -> list[dict[str, object]]:
    """Every change after `since`, read page by page from the JSON form of the feed."""
    changes: list[dict[str, object]] = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(100_000):  # bounded: a page holds up to 1,000 changes
            page = http.get("/picus/changes", params={"since": since, "limit": 1000})
            page.raise_for_status()
            batch = page.json()
            changes += batch
            if "link" not in page.headers:
                return changes
            since = int(batch[-1]["seq"])
    raise AssertionError("the feed did not end")


@dataclass(frozen=True)
class FeedCheck:
    """What following the feed showed: the figures, and what is wrong (must be nothing)."""

    followed: int
    reconnects: int
    problems: list[str]


def check(follower: FeedFollower, actual: list[dict[str, object]], ledger: Ledger) -> FeedCheck:
    """The followed stream against the truth, and the truth against the acknowledged writes."""
    problems: list[str] = []
    seqs = [int(str(change["seq"])) for change in follower.seen]
    repeated = [seq for seq, times in Counter(seqs).items() if times > 1]
    if repeated:
        problems.append(f"{len(repeated)} changes followed twice (e.g. seq {repeated[0]})")
    if seqs != sorted(seqs):
        problems.append("the followed changes are out of seq order")
    truth_seqs = [int(str(change["seq"])) for change in actual]
    missed = sorted(set(truth_seqs) - set(seqs))
    if missed:
        problems.append(f"{len(missed)} changes never reached the follower (e.g. seq {missed[0]})")
    extra = sorted(set(seqs) - set(truth_seqs))
    if extra:
        problems.append(f"{len(extra)} followed changes are not in the feed (e.g. seq {extra[0]})")
    in_feed = Counter((int(str(c["id"])), str(c["op"]), c.get("version")) for c in actual)
    for write in ledger.acknowledged_writes:
        times = in_feed[write]
        if times != 1:
            problems.append(f"acknowledged write {write} is in the feed {times} times")
    return FeedCheck(len(seqs), follower.reconnects, problems)
