"""An Item's JSON text written by PostgreSQL, for the long list.

Listing builds one Item per row; done in Python that is most of the list's CPU time
(timestamps parsed into datetimes, formatted back, an f-string per row). PostgreSQL writes
the same bytes as `picus.representation.item_json` (the document as `jsonb` text,
timestamps as `datetime.isoformat()` would write them) far more cheaply, so on PostgreSQL
the list passes that text through untouched.
"""

from datetime import datetime

import sqlalchemy as sa

from picus.storage.tables import items


def _isoformat(column: sa.ColumnElement[datetime]) -> sa.ColumnElement[str]:
    """`datetime.isoformat()` in SQL: fractional seconds only when there are some."""
    microseconds = sa.func.date_part("microseconds", column).cast(sa.Integer) % 1_000_000
    return (
        sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS')
        + sa.case((microseconds != 0, sa.func.to_char(column, ".US")), else_="")
        + sa.func.to_char(column, "TZH:TZM")
    )


ITEM_JSON = (
    sa.literal('{"id":')
    + sa.cast(items.c.id, sa.Text)
    + ',"data":'
    + sa.cast(items.c.data, sa.Text)
    + ',"created_at":"'
    + _isoformat(items.c.created_at)
    + '","updated_at":"'
    + _isoformat(items.c.updated_at)
    + '"}'
).label("item_json")
