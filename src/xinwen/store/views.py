"""SQL views for Datasette and SQL users (schema 6), and the per-site statistics built on them.

The views are SQLite's: they use `instr`, `datetime('now', ...)` and `json_each`, which
PostgreSQL spells differently, so migration 6 creates them only on SQLite (docs/schema.md).

A fetch row has no site of its own: its site is the site of the articles stored from the same
host (`host:port`), or the host itself when none is. `SITE_OF_FETCH` is that rule, written once
and used by the `site_health` view and by `xinwen stats`.
"""

from __future__ import annotations

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


def create_views(connection: Connection) -> None:
    """Migration 6: create the views (SQLite only; other engines get none, see above)."""
    if connection.dialect.name != "sqlite":
        return
    for name, body in VIEWS.items():
        connection.execute(text(f"DROP VIEW IF EXISTS {name}"))
        connection.execute(text(f"CREATE VIEW {name} AS {body.strip()}"))


def site_stats(archive: Archive) -> list[dict[str, Any]]:
    """Per site: the `site_health` row, failures by `error_kind` and the count of each flag.

    Each row has `site`, `articles`, `fetches`, `failures`, `last_fetch_at`, `flagged_share`,
    `failures_by_kind` (`{"timeout": 3, ...}`) and `flags` (`{"short_body": 2, ...}`).
    """
    if archive.engine.dialect.name != "sqlite":
        raise ConfigError("xinwen stats reads SQLite archives only for now (it uses their views)")
    failures_sql = (
        f"WITH {SITE_OF_FETCH} SELECT site, coalesce(error_kind, 'unknown'), count(*)"
        " FROM fetch_site WHERE outcome = 'failed' GROUP BY 1, 2 ORDER BY 3 DESC, 2"
    )
    flags_sql = (
        "SELECT a.site, f.value, count(*) FROM article AS a, json_each(a.flags) AS f"
        " GROUP BY 1, 2 ORDER BY 3 DESC, 2"
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
