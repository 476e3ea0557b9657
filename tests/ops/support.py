"""Reading what a server says about itself: its JSON log lines and its /metrics."""

import json
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

LIST_ONE = "list_items"


def log_lines(path: Path) -> list[dict[str, Any]]:
    """Every line the server wrote, each parsed as JSON (a line that is not JSON fails)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parsed = []
    for line in lines:
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"a log line that is not JSON: {line!r}") from None
    return parsed


def access_lines(path: Path) -> list[dict[str, Any]]:
    """The server's per-request lines."""
    return [line for line in log_lines(path) if line.get("logger") == "picus.access"]


def sample(metrics_text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, or None if it is absent."""
    for family in text_string_to_metric_families(metrics_text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return None


def scrape(base_url: str) -> str:
    """GET /metrics on a fresh connection."""
    response = httpx.get(f"{base_url}/metrics", timeout=10.0)
    assert response.status_code == 200, response.text
    return response.text
