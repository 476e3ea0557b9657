"""The scenarios: what wrk sends, with how many connections, and the SQL that is its limit."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """One kind of request: a wrk script and the pgbench script(s) doing its SQL alone."""

    name: str
    connections: int
    wrk_script: str
    pgbench_scripts: dict[str, int]  # file in bench/pgbench -> weight
    writes: bool = False

    @property
    def targeted_p99(self) -> bool:
        """The p99 target applies to the 32-connection single-item and page scenarios."""
        return self.name in {"get", "put", "page"}


GET = Scenario("get", 32, "get.lua", {"get.sql": 1})
PAGE = Scenario("page", 32, "page.lua", {"page.sql": 1})
LIST = Scenario("list", 4, "list.lua", {"list.sql": 1})
PUT = Scenario("put", 32, "put.lua", {"put.sql": 1}, writes=True)
MIXED = Scenario("mixed", 32, "mixed.lua", {"get.sql": 8, "put.sql": 2}, writes=True)
DELETE = Scenario("delete", 32, "delete.lua", {"delete.sql": 1}, writes=True)

# Reads first, while the table holds exactly the seeded items; then the writes.
ALL = (GET, PAGE, LIST, PUT, MIXED, DELETE)

# The targets, as ratios to pgbench in the same run (direct to the app).
RATIO_TARGETS = {"get": 0.12, "put": 0.18, "list": 0.55, "page": 0.10}
P99_TARGET_MS = 50.0
NGINX_MAX_LOSS = 0.15
STREAM_PEAK_MIB = 150.0
LIST_GROWTH_MIB = 30.0
