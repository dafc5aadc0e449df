"""Copy a whole archive from one database to another (`xinwen copy`): SQLite to PostgreSQL when
one machine is no longer enough, or back to a SQLite file to hand someone a snapshot.

Rows keep their ids, so every reference (capture, article, run) stays true, and the target's
id sequences are moved past them. The full-text index is not copied (SQLite's and PostgreSQL's
differ): it is rebuilt on the target from the copied articles.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, Table, func, select, text

from ..errors import ConfigError
from . import search
from .tables import (
    ArticleRow,
    CaptureRow,
    FetchRow,
    FrontierRow,
    HostRow,
    PayloadRow,
    RevisionRow,
    RunRow,
    SectionRow,
)

# In the order that references allow: a row's targets are copied before it.
TABLES = [PayloadRow, CaptureRow, RunRow, ArticleRow, SectionRow, RevisionRow, FetchRow, HostRow,
          FrontierRow]  # fmt: skip
# Rows per round trip; payload rows hold compressed pages (tens of kB each), so fewer of them.
_BATCH = 1000
_PAYLOAD_BATCH = 100


def _table(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def copy_archive(
    source: Engine, target: Engine, *, on_table: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of `source` into the empty archive `target`; returns rows per table.

    Both are at the current schema version (opening an `Archive` upgrades them). The copy is
    one transaction on the target: it lands whole or not at all.
    """
    with target.connect() as connection:
        held = connection.execute(select(func.count()).select_from(_table(ArticleRow))).scalar()
        known = connection.execute(select(func.count()).select_from(_table(FrontierRow))).scalar()
    if held or known:
        raise ConfigError(
            f"the target already holds {held} articles and {known} frontier URLs: "
            "copy into an empty archive"
        )
    copied: dict[str, int] = {}
    with source.connect() as reader, target.begin() as writer:
        for model in TABLES:
            table = _table(model)
            key = next(iter(table.primary_key.columns))
            batch = _PAYLOAD_BATCH if model is PayloadRow else _BATCH
            count, last = 0, None
            while True:
                query = select(table).order_by(key).limit(batch)
                if last is not None:
                    query = query.where(key > last)
                rows = [dict(row._mapping) for row in reader.execute(query)]
                if not rows:
                    break
                writer.execute(table.insert(), rows)
                count += len(rows)
                last = rows[-1][key.name]
            copied[table.name] = count
            if on_table is not None:
                on_table(table.name, count)
        if target.dialect.name == "postgresql":
            for model in TABLES:
                table = _table(model)
                if "id" in table.columns:
                    writer.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                             f"coalesce((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)")
                    )  # fmt: skip
        if search.exists(writer):
            search.rebuild(writer)
    return copied
