"""The issue's targets, evaluated on one run's figures (bench/scenarios.py holds the limits).

Most are ratios, to pgbench or to the reference peer measured minutes apart on the same
machine, since only ratios within one run survive the load other work puts on two cores.
A target whose figures are missing (no peer, a scenario left out) is "not measured".
"""

from typing import Any

from bench.report import Row, Target, number
from bench.scenarios import (
    CPU_MAX_X_REFERENCE,
    NGINX_MAX_LOSS,
    P99_MAX_X_REFERENCE,
    RATE_MIN_X_REFERENCE,
    RATIO_TARGETS,
    STALL_GET_MAX_MS,
    STREAM_GROWTH_MAX_MIB,
    STREAMS_DELIVERY_MAX_MS,
    STREAMS_GET_MIN_X,
    WORKER_RSS_MAX_MIB,
)
from bench.stall import CLIENTS, PROBE_TIMEOUT_SECONDS
from bench.streams import STREAMS


def workers_label(service: str) -> str:
    """The memory section's key for a service's per-worker RSS."""
    return f"RSS per worker after warm-up, {service}"


def evaluate(
    rows: list[Row],
    memory: dict[str, dict[str, float]],
    stall: dict[str, dict[str, float]],
    streams: dict[str, Any] | None = None,
) -> list[Target]:
    """Every target, in the issue's order, then the through-Nginx comparison."""
    direct = _by_scenario(rows, "direct")

    def versus(
        label: str, name: str, attribute: str, limit: float, higher: bool, to: str = "reference"
    ) -> Target:
        """Picus's figure over the same figure of `to` (the reference, or pgbench)."""
        mine, theirs = (
            _figure(direct, name, attribute),
            _figure(_by_scenario(rows, to), name, attribute),
        )
        value = mine / theirs if mine is not None and theirs else None
        detail = f"Picus {number(mine)}, {to} {number(theirs)}"
        return Target(f"{name} {label} vs {to}", value, limit, higher, unit="x", detail=detail)

    targets = [
        versus("app CPU ms/request", name, "app_cpu_ms", limit, higher=False)
        for name, limit in CPU_MAX_X_REFERENCE.items()
    ]
    targets += [
        versus("req/s", name, "per_second", limit, higher=True)
        for name, limit in RATE_MIN_X_REFERENCE.items()
    ]
    targets += [
        versus("req/s", name, "per_second", limit, higher=True, to="pgbench")
        for name, limit in RATIO_TARGETS.items()
    ]
    targets += [
        versus("p99 ms at 32 conns", name, "p99_ms", limit, higher=False)
        for name, limit in P99_MAX_X_REFERENCE.items()
    ]
    targets.append(_stall(stall))
    targets.append(_workers(memory))
    targets += _streams(memory)
    if streams:
        targets += _feed(streams)
    targets += _nginx(rows, direct)
    return targets


def _by_scenario(rows: list[Row], via: str) -> dict[str, Row]:
    return {row.scenario: row for row in rows if row.via == via}


def _figure(rows: dict[str, Row], name: str, attribute: str) -> float | None:
    row = rows.get(name)
    value = None if row is None else getattr(row, attribute)
    return None if value is None else float(value)


def _stall(stall: dict[str, dict[str, float]]) -> Target:
    """The slowest probe; one that failed (no 200: an error, or no answer within the
    timeout) counts as the whole timeout, however fast the failure came."""
    mine = stall.get("picus")
    details = [f"{name} {_probes(figures)}" for name, figures in stall.items()]
    value = None if mine is None else mine["max ms"]
    if mine is not None and mine["failed"]:
        value = max(mine["max ms"], 1000 * PROBE_TIMEOUT_SECONDS)
    return Target(
        f"{CLIENTS} stalled list clients: slowest get by id",
        value,
        STALL_GET_MAX_MS,
        False,
        unit="ms",
        detail="; ".join(details),
    )


def _probes(figures: dict[str, float]) -> str:
    failed = f", {figures['failed']:.0f} failed" if figures["failed"] else ""
    return (
        f"max {number(figures['max ms'])}, median {number(figures['median ms'])} ms "
        f"of {figures['probes']:.0f}{failed}"
    )


def _workers(memory: dict[str, dict[str, float]]) -> Target:
    mine, theirs = memory.get(workers_label("picus")), memory.get(workers_label("reference"))
    detail = "" if theirs is None else f"reference {theirs['max MiB']:g} MiB"
    value = None if mine is None else mine["max MiB"]
    return Target(
        "RSS per worker after warm-up", value, WORKER_RSS_MAX_MIB, False, unit="MiB", detail=detail
    )


def _streams(memory: dict[str, dict[str, float]]) -> list[Target]:
    return [
        Target(
            f"{label}: peak RSS growth",
            figures["growth MiB"],
            STREAM_GROWTH_MAX_MIB,
            False,
            strict=True,
            unit="MiB",
            detail=f"idle {figures['idle MiB']:g}, peak {figures['peak MiB']:g} MiB",
        )
        for label, figures in memory.items()
        if label.startswith("stream")
    ]


def _feed(streams: dict[str, Any]) -> list[Target]:
    """Issue 12: open change-feed streams on one worker cost memory and nothing else."""
    opened = f"{streams.get('streams open', 0):,} of {STREAMS:,} open"
    why = streams.get("not measured")
    rates = f"{number(streams.get('get req/s with streams'))} vs "
    rates += f"{number(streams.get('get req/s without streams'))} req/s; {opened}"
    pool = f"pool + 1 listener; {streams.get('PG connections without streams')} without streams"
    missed = streams.get("streams missing a change", 0)
    delivery = f"{missed} streams missed a change; {opened}" if missed else opened
    refused = streams.get("first refusal", "")
    return [
        Target(
            "change-feed streams open on one worker",
            streams.get("streams open"),
            STREAMS,
            True,
            detail=why or (f"first refusal: {refused}" if refused else ""),
        ),
        Target(
            f"get req/s with {STREAMS:,} streams vs without (one worker)",
            streams.get("get ratio with/without"),
            STREAMS_GET_MIN_X,
            True,
            unit="x",
            detail=why or rates,
        ),
        Target(
            f"PG connections with {STREAMS:,} streams (one worker)",
            streams.get("PG connections with streams"),
            streams.get("PG connection limit", 0),
            False,
            detail=why or pool,
        ),
        Target(
            f"a change reaches all {STREAMS:,} streams",
            streams.get("max delivery ms"),
            STREAMS_DELIVERY_MAX_MS,
            False,
            unit="ms",
            detail=why or delivery,
        ),
    ]


def _nginx(rows: list[Row], direct: dict[str, Row]) -> list[Target]:
    targets = []
    for name, row in _by_scenario(rows, "nginx").items():
        base = direct.get(name)
        loss = 1 - row.per_second / base.per_second if base and base.per_second else None
        detail = f"{row.per_second:,.0f} vs {base.per_second:,.0f} req/s" if base else ""
        targets.append(
            Target(
                f"{name} through Nginx, loss vs direct", loss, NGINX_MAX_LOSS, False, detail=detail
            )
        )
    return targets
