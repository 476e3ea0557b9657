"""The one table (printed, and as Markdown) and the JSON document of a run."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One load run: a scenario, driven through one path (pgbench, direct, nginx)."""

    scenario: str
    via: str
    connections: int
    per_second: float
    p50_ms: float
    p99_ms: float
    failed: int
    rss_mib: float | None = None
    ratio: float | None = None  # per_second / pgbench's per_second for the same scenario
    app_cpu_ms: float | None = None  # the server tree's CPU time per request
    db_cpu_ms: float | None = None  # PostgreSQL's CPU time per request


@dataclass
class Target:
    """One of the issue's targets, and whether this run met it."""

    name: str
    value: float | None
    limit: float
    higher_is_better: bool

    @property
    def met(self) -> bool:
        """True when the measured value is on the right side of the limit."""
        if self.value is None:
            return False
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


@dataclass
class Report:
    """Everything one run produced."""

    meta: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def to_json(self) -> str:
        """The JSON document written to bench/results/."""
        targets = [{**asdict(t), "met": t.met} for t in self.targets]
        body = {
            "meta": self.meta,
            "rows": [asdict(r) for r in self.rows],
            "memory": self.memory,
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
        """The fixed-width table printed at the end of a run."""
        return "\n".join(_format_rows(_cells(self), markdown=False)) + "\n" + self._summary()

    def markdown(self) -> str:
        """The same table as Markdown, plus memory and targets, for the README."""
        lines = _format_rows(_cells(self), markdown=True)
        return "\n".join(lines) + "\n\n" + self._summary(markdown=True)

    def _summary(self, markdown: bool = False) -> str:
        bullet = "- " if markdown else "  "
        lines = []
        for label, value in self.memory.items():
            lines.append(f"{bullet}{label}: {_memory_text(value)}")
        lines.append("")
        lines.append("Targets (direct to the app, ratios to pgbench in this run):")
        for target in self.targets:
            mark = "met" if target.met else "NOT met"
            sign = "≥" if target.higher_is_better else "≤"
            shown = "n/a" if target.value is None else f"{target.value:.3g}"
            lines.append(f"{bullet}{target.name}: {shown} ({sign} {target.limit:g}) {mark}")
        return "\n".join(lines) + "\n"


HEADERS: tuple[str, ...] = ("scenario", "via", "conns", "req/s", "p50 ms", "p99 ms")
HEADERS += ("non-2xx", "RSS MiB", "x pgbench", "app CPU ms", "db CPU ms")


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


def _format_rows(cells: list[tuple[str, ...]], markdown: bool) -> list[str]:
    widths = [max(len(c[i]) for c in [HEADERS, *cells]) for i in range(len(HEADERS))]

    def line(values: tuple[str, ...]) -> str:
        padded = [
            v.ljust(w) if i < 2 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |" if markdown else "  ".join(padded)

    lines = [line(HEADERS)]
    if markdown:
        lines.append(
            "|"
            + "|".join(("-" * (w + 1) + (":" if i >= 2 else "-")) for i, w in enumerate(widths))
            + "|"
        )
    lines.extend(line(c) for c in cells)
    return lines


def _memory_text(value: dict[str, Any]) -> str:
    return ", ".join(f"{key} {val}" for key, val in value.items())
