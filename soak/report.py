"""The soak's result as Markdown tables (printed, and pasted into docs/reliability.md as is)."""

import os
from collections import Counter

from soak.outcomes import Outcome
from soak.run import SoakResult

LOAD_OPS = ["create", "get", "update", "delete", "list"]
COLUMNS = [*LOAD_OPS, "burst", "verify"]


def report(result: SoakResult) -> str:
    """Summary, faults, and answers by status; then every violation and lost write."""
    lines = [*_summary(result), "", *_faults(result), "", *_answers(result.outcomes)]
    problems = result.verdict.violations + result.ledger.lost + result.ledger.wrong_answers
    if problems:
        lines += ["", "Violations:", *(f"- {problem}" for problem in problems)]
    return "\n".join(lines)


def _summary(result: SoakResult) -> list[str]:
    config, outcomes = result.config, result.outcomes
    acknowledged = Counter(
        (o.op, o.status) for o in outcomes if (o.op, o.status) in _ACK and not o.failure
    )
    creates = len(result.ledger.items)
    updates = acknowledged["update", 200]
    deletes = acknowledged["delete", 204]
    left_out = [] if result.features.replace else ["PUT (not in this build's spec)"]
    if not result.features.idempotency_keys:
        left_out.append("create retries (no Idempotency-Key in this build)")
    rows = [
        ("verdict", "PASS" if result.passed else "FAIL"),
        (
            "run",
            f"{result.seconds:.0f} s of load, {config.clients} client threads through Nginx, "
            f"`picus serve --workers 2`, "
            f"{'PgBouncer, ' if config.pgbouncer else ''}PostgreSQL; {os.cpu_count()} CPUs, "
            f"load average {result.load_average:.1f} at the start",
        ),
        ("faults injected", f"{len(result.faults)} of 5"),
        ("requests sent", str(len(outcomes))),
        (
            "acknowledged writes checked",
            f"{creates + updates + deletes} ({creates} creates, {updates} updates, "
            f"{deletes} deletes) on {result.items_checked} items",
        ),
        ("writes lost", str(len(result.ledger.lost))),
        ("wrong answers to writes", str(len(result.ledger.wrong_answers))),
        ("creates never acknowledged", str(result.ledger.unacknowledged_creates)),
        (
            "change feed followed",
            f"{result.feed.followed} changes as Server-Sent Events through Nginx, "
            f"{result.feed.reconnects} resumes by Last-Event-ID; "
            f"{len(result.feed.problems)} problems (missed, twice, out of order, or an "
            "acknowledged write not in the feed exactly once)",
        ),
        ("violations", str(len(result.verdict.violations))),
    ]
    if left_out:
        rows.append(("left out", "; ".join(left_out)))
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


_ACK = {("update", 200), ("delete", 204)}


def _faults(result: SoakResult) -> list[str]:
    lines = [
        "| fault | at | lasted | errors in window | served meanwhile | recovery | what happened |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    start = result.outcomes[0].sent if result.outcomes else 0.0
    for stats in result.verdict.per_fault:
        fault = stats.fault
        recovery = "never" if stats.recovery is None else f"{stats.recovery:.2f} s"
        note = fault.problem or fault.note
        lines.append(
            f"| {fault.name} | {fault.started - start:.1f} s | {fault.ended - fault.started:.1f} s "
            f"| {stats.errors} | {stats.served_during} | {recovery} | {note} |"
        )
    return lines


def _answers(outcomes: list[Outcome]) -> list[str]:
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        column = "verify" if outcome.op.startswith("verify") else outcome.op
        counts[outcome.label, column] += 1
    labels = sorted({label for label, _ in counts}, key=lambda label: (not label.isdigit(), label))
    columns = [c for c in COLUMNS if any(counts[label, c] for label in labels)]
    lines = [
        "| answer | " + " | ".join(columns) + " | total |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for label in labels:
        row = [counts[label, column] for column in columns]
        lines.append(f"| {label} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    return lines
