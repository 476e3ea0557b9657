"""A scrape in multiprocess mode survives metric files that are mid-creation."""

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from picus.observability.exposition import SettledFilesCollector


def _counter_file(directory: Path, pid: int, value: float) -> None:
    """Write a counter file as a worker process would (prometheus-client is untyped here)."""
    values = MmapedDict(str(directory / f"counter_{pid}.db"))  # type: ignore[no-untyped-call]
    key = mmap_key("picus_probe_total", "picus_probe_total", [], [], "")
    values.write_value(key, value, 0.0)  # type: ignore[no-untyped-call]
    values.close()  # type: ignore[no-untyped-call]


def test_an_empty_metric_file_does_not_fail_the_scrape(tmp_path: Path) -> None:
    _counter_file(tmp_path, 101, 2.0)
    _counter_file(tmp_path, 102, 3.0)
    (tmp_path / "counter_103.db").touch()  # a worker has opened it but not yet sized it
    registry = CollectorRegistry()
    SettledFilesCollector(registry, path=str(tmp_path))  # type: ignore[no-untyped-call]
    assert "picus_probe_total 5.0" in generate_latest(registry).decode()
