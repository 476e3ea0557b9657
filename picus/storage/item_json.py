"""An Item's JSON text written by PostgreSQL, for the long list.

Listing builds one Item per row; done in Python that is most of the list's CPU time
(timestamps parsed into datetimes, formatted back, an f-string per row). PostgreSQL writes
the same bytes as `picus.storage.records.item_json` far more cheaply, so on PostgreSQL the
list passes that text through untouched. Timestamps are PostgreSQL's own ISO 8601 form
(`to_json`, in the session's UTC): RFC 3339 with as many fraction digits as needed, which
`records.rfc3339` writes alike.
"""

import sqlalchemy as sa

from picus.storage.tables import items


def _rfc3339(column: sa.ColumnElement[object]) -> sa.ColumnElement[str]:
    """`to_json(ts) #>> '{}'`: the timestamp as PostgreSQL writes it in JSON, unquoted."""
    return sa.func.to_json(column).op("#>>")(sa.literal_column("'{}'"))


ITEM_JSON: sa.Label[str] = (
    sa.literal_column("""'{"id":'""")
    + sa.cast(items.c.id, sa.Text)
    + sa.literal_column("""',"data":'""")
    + sa.cast(items.c.data, sa.Text)
    + sa.literal_column("""',"created_at":"'""")
    + _rfc3339(items.c.created_at)
    + sa.literal_column("""'","updated_at":"'""")
    + _rfc3339(items.c.updated_at)
    + sa.literal_column("""'"}'""")
).label("item_json")
