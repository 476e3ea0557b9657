"""The scenarios (what wrk sends, with how many connections, the SQL that is its limit)
and the issue's targets, which are evaluated on every run by bench/targets.py."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """One kind of request: a wrk script and the pgbench script(s) doing its SQL alone."""

    name: str
    connections: int
    wrk_script: str
    pgbench_scripts: dict[str, int]  # file in bench/pgbench -> weight
    writes: bool = False
    # The reference peer answers it too. Its list ignores `limit`/`after`, so it has no page.
    reference: bool = True


GET = Scenario("get", 32, "get.lua", {"get.sql": 1})
PAGE = Scenario("page", 32, "page.lua", {"page.sql": 1}, reference=False)
LIST = Scenario("list", 4, "list.lua", {"list.sql": 1})
PUT = Scenario("put", 32, "put.lua", {"put.sql": 1}, writes=True)
MIXED = Scenario("mixed", 32, "mixed.lua", {"get.sql": 8, "put.sql": 2}, writes=True)
DELETE = Scenario("delete", 32, "delete.lua", {"delete.sql": 1}, writes=True)

# Reads first, while the table holds exactly the seeded items; then the writes.
ALL = (GET, PAGE, LIST, PUT, MIXED, DELETE)

# The targets (direct to the app, two workers, all from the same run).
# App CPU ms per request, at most this many times the reference's.
CPU_MAX_X_REFERENCE = {"get": 2.0, "put": 2.0}
# Requests per second, at least this many times the reference's (list: all 10,000 items).
RATE_MIN_X_REFERENCE = {"get": 0.5, "put": 0.5, "list": 1.0}
# Requests per second, at least this many times pgbench's with the request's SQL.
RATIO_TARGETS = {"get": 0.06, "put": 0.08, "page": 0.10, "list": 0.55}
# p99 latency at 32 connections, at most this many times the reference's.
P99_MAX_X_REFERENCE = {"get": 2.0, "put": 2.0}
# While 24 clients stall on the list, the slowest of 20 gets by id (ms).
STALL_GET_MAX_MS = 100.0
# VmRSS of the largest worker after the scenarios (MiB).
WORKER_RSS_MAX_MIB = 80.0
# Streaming the whole list (1,000,000 items): peak RSS growth of the tree, below (MiB).
STREAM_GROWTH_MAX_MIB = 10.0
# With 1,000 change-feed streams open on one worker, its get rate at least this many times
# the rate without them; and a change reaches every stream within this many ms.
STREAMS_GET_MIN_X = 0.8
STREAMS_DELIVERY_MAX_MS = 1000.0
# Through Nginx, at most this fraction slower than direct.
NGINX_MAX_LOSS = 0.15
