"""SQL views for Datasette and SQL users (schema 6), and the per-site statistics built on them.

The views are written in SQLite's dialect; `_postgres()` respells the few functions PostgreSQL
names differently (`instr`, `datetime('now', ...)`, sums of comparisons), so both engines get the
same views with the same columns (docs/schema.md).

A fetch row has no site of its own: its site is the site of the articles stored from the same
host (`host:port`), or the host itself when none is. `SITE_OF_FETCH` is that rule, written once
and used by the `site_health` view and by `xinwen stats`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from ..errors import ConfigError

if TYPE_CHECKING:
    from . import Archive

__all__ = ["SITE_OF_FETCH", "VIEWS", "create_views", "site_stats"]


def _host(url: str) -> str:
    """SQL for the lower-cased `host[:port]` of an absolute URL (canonical URLs have a path)."""
    rest = f"substr({url}, instr({url}, '://') + 3) || '/'"
    return f"lower(substr({rest}, 1, instr({rest}, '/') - 1))"


# Common table expressions: `host_site` (each article host and its site) and `fetch_site`
# (every fetch row with the site it belongs to).
SITE_OF_FETCH = f"""
host_site AS (
    SELECT {_host("url")} AS host, min(site) AS site FROM article GROUP BY 1
),
fetch_site AS (
    SELECT f.*, coalesce(h.site, {_host("f.url")}) AS site
    FROM fetch AS f LEFT JOIN host_site AS h ON h.host = {_host("f.url")}
)"""

VIEWS: dict[str, str] = {
    "latest_articles": """
SELECT id, site, title, category, published_at, url, flags, first_seen_at
FROM article
ORDER BY published_at DESC, first_seen_at DESC, id DESC""",
    "failures_24h": f"""
WITH {SITE_OF_FETCH}
SELECT id, fetched_at, site, url, error_kind, http_status, error_message, elapsed_ms
FROM fetch_site
WHERE outcome = 'failed' AND fetched_at >= datetime('now', '-1 day')
ORDER BY fetched_at DESC, id DESC""",
    "site_health": f"""
WITH {SITE_OF_FETCH},
articles AS (
    SELECT site, count(*) AS articles,
           sum(coalesce(flags, '[]') <> '[]') AS flagged
    FROM article GROUP BY site
),
fetches AS (
    SELECT site, count(*) AS fetches, sum(outcome = 'failed') AS failures,
           max(fetched_at) AS last_fetch_at
    FROM fetch_site GROUP BY site
),
sites AS (SELECT site FROM articles UNION SELECT site FROM fetches)
SELECT s.site,
       coalesce(a.articles, 0) AS articles,
       coalesce(f.fetches, 0) AS fetches,
       coalesce(f.failures, 0) AS failures,
       f.last_fetch_at,
       CASE WHEN a.articles > 0 THEN round(1.0 * a.flagged / a.articles, 3) END AS flagged_share
FROM sites AS s
LEFT JOIN articles AS a ON a.site = s.site
LEFT JOIN fetches AS f ON f.site = s.site
ORDER BY s.site""",
}


def _postgres(sql: str) -> str:
    """A view body in PostgreSQL's spelling."""
    sql = sql.replace("instr(", "strpos(")
    sql = sql.replace("FROM fetch ", 'FROM "fetch" ')  # FETCH is a reserved word there
    # SQLite sorts NULL first, so last when descending; PostgreSQL the other way round.
    sql = sql.replace("published_at DESC", "published_at DESC NULLS LAST")
    sql = sql.replace("datetime('now', '-1 day')", "(now() AT TIME ZONE 'UTC') - interval '1 day'")
    # SQLite sums booleans as 0/1; PostgreSQL needs them counted.
    sql = re.sub(r"sum\(([^()]*(?:\([^()]*\)[^()]*)*)\)", _count_true, sql)
    return sql


def _count_true(match: re.Match[str]) -> str:
    inner = match.group(1)
    if not re.search(r"<>|=", inner):
        return match.group(0)
    return f"count(*) FILTER (WHERE {inner})"


def create_views(connection: Connection) -> None:
    """Migration 6: create the views (on SQLite and PostgreSQL)."""
    dialect = connection.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return
    for name, body in VIEWS.items():
        sql = body.strip() if dialect == "sqlite" else _postgres(body.strip())
        connection.execute(text(f"DROP VIEW IF EXISTS {name}"))
        connection.execute(text(f"CREATE VIEW {name} AS {sql}"))


def site_stats(archive: Archive) -> list[dict[str, Any]]:
    """Per site: the `site_health` row, failures by `error_kind` and the count of each flag.

    Each row has `site`, `articles`, `fetches`, `failures`, `last_fetch_at`, `flagged_share`,
    `failures_by_kind` (`{"timeout": 3, ...}`) and `flags` (`{"short_body": 2, ...}`).
    """
    dialect = archive.engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise ConfigError(f"xinwen stats reads SQLite and PostgreSQL archives, not {dialect}")
    failures_sql = (
        f"WITH {SITE_OF_FETCH} SELECT site, coalesce(error_kind, 'unknown'), count(*)"
        " FROM fetch_site WHERE outcome = 'failed' GROUP BY 1, 2 ORDER BY 3 DESC, 2"
    )
    if dialect == "postgresql":
        failures_sql = _postgres(failures_sql)
    elements = (
        "json_each(a.flags)"
        if dialect == "sqlite"
        else "jsonb_array_elements_text(CAST(coalesce(a.flags, '[]') AS jsonb)) AS f(value)"
    )
    flags_sql = (
        f"SELECT a.site, f.value, count(*) FROM article AS a, {elements}"
        + (" AS f" if dialect == "sqlite" else "")
        + " GROUP BY 1, 2 ORDER BY 3 DESC, 2"
    )
    with archive._errors(), archive.engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM site_health"))]
        by_site = {row["site"]: row for row in rows}
        for row in rows:
            row["failures_by_kind"] = {}
            row["flags"] = {}
        for key, sql in (("failures_by_kind", failures_sql), ("flags", flags_sql)):
            for site, name, count in connection.execute(text(sql)):
                by_site[site][key][name] = count
    return rows
