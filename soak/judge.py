"""The verdict on every answer: what is allowed, where, and how fast Picus came back.

- Never, anywhere: a 500 (or any 5xx but 502/503), a malformed answer, a request that
  hung past the client timeout, a 4xx the load cannot cause (429, 400, ...).
- Inside a fault window (from the fault's start until `settle` seconds after it ended):
  502 and 503 (the 503 with Retry-After, checked as its shape). Outside: no error at all.
- A request with no HTTP answer (connection closed or refused) is an error like a 502.
"""

from collections import Counter
from dataclasses import dataclass

from soak.faults import Fault
from soak.outcomes import TIMEOUT, UNAVAILABLE, Outcome

# 4xx the load itself meets: a read or delete of an item whose delete was not acknowledged,
# an Idempotency-Key still busy with its first request, a PUT whose If-Match an earlier
# unanswered attempt made stale. Whether each was right is the ledger's call (load.py).
EXPECTED_4XX = frozenset({404, 409, 412})


@dataclass(frozen=True)
class FaultStats:
    """What the answers say about one fault."""

    fault: Fault
    errors: int  # 502/503/no answer inside its window
    served_during: int  # successful answers while the fault lasted
    recovery: float | None  # from `ended` to the first success sent after it


@dataclass(frozen=True)
class Verdict:
    """Violations (must be none) and the per-fault figures."""

    violations: list[str]
    per_fault: list[FaultStats]


def judge(
    outcomes: list[Outcome], faults: list[Fault], settle: float, client_timeout: float
) -> Verdict:
    """Check every outcome against the rules above; measure every fault's recovery."""
    windows = [(fault.started, fault.ended + settle) for fault in faults]
    found: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def violation(kind: str, outcome: Outcome) -> None:
        found[kind] += 1
        examples.setdefault(kind, f"{outcome.op} -> {outcome.label} {outcome.failure}".strip())

    for outcome in outcomes:
        if outcome.answered - outcome.sent > client_timeout or outcome.failure.startswith(TIMEOUT):
            violation("no answer within the client timeout", outcome)
        elif (
            outcome.status is not None
            and outcome.status >= 500
            and (outcome.status not in UNAVAILABLE)
        ):
            violation(f"{outcome.status} answer", outcome)
        elif outcome.status is not None and outcome.failure:
            violation("malformed answer", outcome)
        elif outcome.succeeded:
            if _unexpected_refusal(outcome.status):
                violation(f"unexpected {outcome.status}", outcome)
        elif not any(_overlaps(outcome, window) for window in windows):
            violation("error outside every fault window", outcome)
    violations = [f"{count} x {kind} (e.g. {examples[kind]})" for kind, count in found.items()]
    violations += [f"{fault.name}: {fault.problem}" for fault in faults if fault.problem]
    stats = [_stats(fault, outcomes, settle) for fault in faults]
    return Verdict(violations, stats)


def _unexpected_refusal(status: int | None) -> bool:
    return status is not None and status >= 400 and status not in EXPECTED_4XX


def _overlaps(outcome: Outcome, window: tuple[float, float]) -> bool:
    start, end = window
    return outcome.sent <= end and outcome.answered >= start


def _stats(fault: Fault, outcomes: list[Outcome], settle: float) -> FaultStats:
    window = (fault.started, fault.ended + settle)
    errors = sum(1 for outcome in outcomes if not outcome.succeeded and _overlaps(outcome, window))
    served = sum(
        1
        for outcome in outcomes
        if outcome.succeeded and fault.started <= outcome.sent and outcome.answered <= fault.ended
    )
    after = [o.answered for o in outcomes if o.succeeded and o.sent >= fault.ended]
    recovery = min(after) - fault.ended if after else None
    return FaultStats(fault, errors, served, recovery)
