"""The tables of a run (printed, and as Markdown) and its JSON document.

Each output starts with when, at which commit and on how busy a machine the run was made,
because req/s on two shared cores mean nothing without that.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One load run: a scenario, driven through one path (pgbench, direct, nginx, reference)."""

    scenario: str
    via: str
    connections: int
    per_second: float
    p50_ms: float
    p99_ms: float
    failed: int
    rss_mib: float | None = None  # peak RSS of the service's whole process tree
    ratio: float | None = None  # per_second / pgbench's per_second for the same scenario
    app_cpu_ms: float | None = None  # the server tree's CPU time per request
    db_cpu_ms: float | None = None  # PostgreSQL's CPU time per request


@dataclass
class Target:
    """One of the issue's targets, and whether this run met it (never, when unmeasured)."""

    name: str
    value: float | None
    limit: float
    higher_is_better: bool
    strict: bool = False  # "<" or ">" rather than "≤" or "≥"
    unit: str = ""  # "x" for ratios, "ms", "MiB"
    detail: str = ""  # the figures a ratio was made from

    @property
    def met(self) -> bool:
        """True when the measured value is on the right side of the limit."""
        if self.value is None:
            return False
        if self.higher_is_better:
            return self.value > self.limit if self.strict else self.value >= self.limit
        return self.value < self.limit if self.strict else self.value <= self.limit

    def cells(self) -> tuple[str, ...]:
        """Target, measured, goal, verdict, detail: one line of the targets table."""
        unit = f" {self.unit}" if self.unit else ""
        shown = "n/a" if self.value is None else f"{number(self.value)}{unit}"
        sign = _SIGNS[self.higher_is_better, self.strict]
        verdict = "met" if self.met else ("not measured" if self.value is None else "NOT met")
        return (self.name, shown, f"{sign} {self.limit:g}{unit}", verdict, self.detail)


def number(value: float | None) -> str:
    """Three significant figures, without an exponent for figures in the hundreds or more."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


_SIGNS = {(True, False): "≥", (True, True): ">", (False, False): "≤", (False, True): "<"}


@dataclass
class Report:
    """Everything one run produced."""

    meta: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    stall: dict[str, Any] = field(default_factory=dict)  # service -> stalled-list figures
    streams: dict[str, Any] = field(default_factory=dict)  # bench/streams.py's figures
    targets: list[Target] = field(default_factory=list)

    def to_json(self) -> str:
        """The JSON document written to bench/results/."""
        targets = [{**asdict(t), "met": t.met} for t in self.targets]
        body = {
            "meta": self.meta,
            "rows": [asdict(r) for r in self.rows],
            "memory": self.memory,
            "stall": self.stall,
            "streams": self.streams,
            "targets": targets,
        }
        return json.dumps(body, indent=2) + "\n"

    def write(self, directory: Path, stem: str) -> list[Path]:
        """Write `stem`.json and `stem`.md, and the same as latest.json / latest.md."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in (stem, "latest"):
            for suffix, text in ((".json", self.to_json()), (".md", self.markdown())):
                path = directory / f"{name}{suffix}"
                path.write_text(text)
                paths.append(path)
        return paths

    def table(self) -> str:
        """The fixed-width tables printed at the end of a run."""
        rows = _format_rows(HEADERS, _cells(self), markdown=False)
        return "\n".join([self._heading(), "", *rows, LEGEND, "", self._summary()])

    def markdown(self) -> str:
        """The same tables as Markdown, for docs/performance.md."""
        rows = _format_rows(HEADERS, _cells(self), markdown=True)
        parts = [self._heading(), "", *rows, "", LEGEND, "", self._summary(markdown=True)]
        return "\n".join(parts)

    def _heading(self) -> str:
        meta = self.meta
        load = " / ".join(str(x) for x in meta.get("load_average_start", []))
        return (
            f"Run {meta.get('date', '?')} at commit {meta.get('commit', '?')} "
            f"({meta.get('commit_subject', '')}); load average at start {load} "
            f"(1 / 5 / 15 min); {meta.get('cores', '?')} cores, {meta.get('cpu', '?')}."
        )

    def _summary(self, markdown: bool = False) -> str:
        bullet = "- " if markdown else "  "
        lines = [f"{bullet}{label}: {_memory_text(value)}" for label, value in self.memory.items()]
        for service, value in self.stall.items():
            lines.append(f"{bullet}stalled list clients, {service}: {_memory_text(value)}")
        if self.streams:
            text = _memory_text(self.streams)
            lines.append(f"{bullet}change-feed streams on one Picus worker: {text}")
        lines += ["", "Targets (direct to the app, two workers, against this run's figures):", ""]
        targets = [target.cells() for target in self.targets]
        lines += _format_rows(TARGET_HEADERS, targets, markdown=markdown, left=(0, 3, 4))
        return "\n".join(lines) + "\n"


HEADERS: tuple[str, ...] = ("scenario", "via", "conns", "req/s", "p50 ms", "p99 ms")
HEADERS += ("non-2xx", "RSS MiB", "x pgbench", "app CPU ms", "db CPU ms")
TARGET_HEADERS = ("target", "measured", "goal", "result", "from")
LEGEND = (
    "via: pgbench = the request's SQL alone (the limit); direct / nginx = Picus; reference ="
    " the FastAPI + asyncpg peer.\nRSS MiB = peak of the service's process tree; app / db"
    " CPU ms = CPU time of the service's tree / PostgreSQL per request."
)


def _cells(report: Report) -> list[tuple[str, ...]]:
    cells: list[tuple[str, ...]] = []
    for row in report.rows:
        cells.append(
            (
                row.scenario,
                row.via,
                str(row.connections),
                f"{row.per_second:,.0f}",
                f"{row.p50_ms:.1f}",
                f"{row.p99_ms:.1f}",
                str(row.failed),
                "-" if row.rss_mib is None else f"{row.rss_mib:.0f}",
                "-" if row.ratio is None else f"{row.ratio:.3f}",
                "-" if row.app_cpu_ms is None else f"{row.app_cpu_ms:.2f}",
                "-" if row.db_cpu_ms is None else f"{row.db_cpu_ms:.3f}",
            )
        )
    return cells


def _format_rows(
    headers: tuple[str, ...],
    cells: list[tuple[str, ...]],
    markdown: bool,
    left: tuple[int, ...] = (0, 1),
) -> list[str]:
    """Aligned columns: those in `left` to the left, numbers to the right."""
    widths = [max(len(c[i]) for c in [headers, *cells]) for i in range(len(headers))]

    def line(values: tuple[str, ...]) -> str:
        padded = [
            v.ljust(w) if i in left else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        text = "| " + " | ".join(padded) + " |" if markdown else "  ".join(padded)
        return text.rstrip()

    lines = [line(headers)]
    if markdown:
        rules = ("-" * (w + 1) + ("-" if i in left else ":") for i, w in enumerate(widths))
        lines.append("|" + "|".join(rules) + "|")
    lines.extend(line(c) for c in cells)
    return lines


def _memory_text(value: dict[str, Any]) -> str:
    return ", ".join(f"{key} {val}" for key, val in value.items())
