"""The soak, short, with the app's queries through a real PgBouncer (as in the Compose stack).

tests/soak/test_soak_short.py runs the same 15 s soak with the app on PostgreSQL directly;
here PgBouncer (deploy/pgbouncer/pgbouncer.ini, transaction pooling) sits between them,
so PostgreSQL's fast restart and its outage happen behind PgBouncer. The promises are the
soak's own, not loosened: no acknowledged write lost, no 500, no malformed answer, no
request left hanging, no error outside a fault window.
"""

from pathlib import Path

from soak.report import report
from soak.run import FAULTS, SoakConfig, run_soak


def test_picus_behind_pgbouncer_loses_nothing_and_recovers_from_every_fault(
    nginx_installed: None, pgbouncer_installed: None, tmp_path: Path
) -> None:
    result = run_soak(
        SoakConfig(workdir=tmp_path, duration=15.0, database_down=2.0, pgbouncer=True)
    )
    table = report(result)
    print(table)
    assert "PgBouncer" in table
    assert len(result.faults) == FAULTS, table
    assert result.ledger.lost == [], table
    assert result.ledger.wrong_answers == [], table
    assert result.verdict.violations == [], table
    assert result.items_checked > 0, table
    assert result.passed, table
    assert "picus" in (tmp_path / "pgbouncer.log").read_text(encoding="utf-8")
