"""The soak, short: every fault once in about 15 s of load, and nothing acknowledged is lost.

The same run as `make soak` (see soak/), with a shorter load and database outage. The
promises are not loosened for the short run: no acknowledged write lost, no 500, no
malformed answer, no request left hanging, no error outside a fault window.
"""

from pathlib import Path

from soak.report import report
from soak.run import FAULTS, SoakConfig, run_soak
from tests.deploy.conftest import nginx_installed

__all__ = ["nginx_installed"]  # the fixture: skips without Nginx, except under CI=true


def test_picus_loses_nothing_and_recovers_from_every_fault(
    nginx_installed: None, tmp_path: Path
) -> None:
    result = run_soak(SoakConfig(workdir=tmp_path, duration=15.0, database_down=2.0))
    table = report(result)
    print(table)
    assert len(result.faults) == FAULTS, table
    assert result.ledger.lost == [], table
    assert result.ledger.wrong_answers == [], table
    assert result.verdict.violations == [], table
    assert result.items_checked > 0, table
    # The change feed, followed through every fault, missed nothing and repeated nothing.
    assert result.feed.problems == [], table
    assert result.feed.followed >= len(result.ledger.acknowledged_writes), table
    assert result.feed.reconnects >= 1, table  # the killed worker and the reload cut it
    assert result.passed, table
