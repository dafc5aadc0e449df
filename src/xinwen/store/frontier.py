"""The crawl frontier in the database, so a crawl can stop anywhere and the next one resumes.

Each URL moves `pending -> leased -> done | listing | part | failed`: `done` for an article,
`listing` for a page that is not one (an index, a channel list), `part` for a later page of a
multi-page article (fetched with its first page, never on its own). A crawl claims one pending
URL at a time (the claim is a single UPDATE ... RETURNING, so it is atomic), and the page's rows
and its frontier mark are written in one transaction by the store. URLs left `leased` by a
crawl that died are given back at the start of the next one: the run lock guarantees no other
crawl on this archive is alive to own them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

# A lease longer than any fetch with its retries, so it never runs out under a live crawl.
LEASE = timedelta(minutes=30)


def _now() -> datetime:
    return datetime.now(UTC)


def begin(connection: Connection, starts: list[str], recent: timedelta, rest: timedelta) -> None:
    """Give back leases of a dead crawl and queue what this run must read again.

    Listings are read again to find what is new, and articles found within `recent` to catch
    edits, but only once they have rested for `rest` since their last fetch: a crawl resumed
    after a crash does not fetch again what the dead one finished. Older articles are left
    alone: a cron run fetches what is new and what is recent, not the whole archive.
    """
    now = _now()
    connection.execute(
        text("UPDATE frontier SET state = 'pending', lease_token = NULL, lease_until = NULL "
             "WHERE state = 'leased' OR (updated_at <= :rested AND (state = 'listing' "
             "OR (state = 'done' AND discovered_at >= :recent)))"),
        {"rested": now - rest, "recent": now - recent},
    )  # fmt: skip
    for url in starts:
        updated = connection.execute(
            text("UPDATE frontier SET state = 'pending', depth = 0, updated_at = :now "
                 "WHERE url = :url"),
            {"url": url, "now": now},
        )  # fmt: skip
        if updated.rowcount == 0:
            add(connection, [url], depth=0)


def add(connection: Connection, found: list[str], *, depth: int, state: str = "pending") -> None:
    """Record URLs not seen before; URLs already known keep their state, except that `part`
    (a later page of a multi-page article) applies to known URLs too."""
    now = _now()
    for url in found:
        exists = connection.execute(text("SELECT 1 FROM frontier WHERE url = :u"), {"u": url})
        if exists.first() is not None:
            if state == "part":  # a later part of an article: never crawled on its own
                finish(connection, url, state="part")
            continue
        connection.execute(
            text("INSERT INTO frontier (url, state, depth, attempts, discovered_at, updated_at)"
                 " VALUES (:u, :s, :d, 0, :now, :now)"),
            {"u": url, "s": state, "d": depth, "now": now},
        )  # fmt: skip


def claim(connection: Connection) -> tuple[str, int] | None:
    """Lease the next pending URL (shallowest first); None when none is pending."""
    now = _now()
    row = connection.execute(
        text("UPDATE frontier SET state = 'leased', lease_token = :token, lease_until = :until, "
             "attempts = attempts + 1, updated_at = :now WHERE url = ("
             "SELECT url FROM frontier WHERE state = 'pending' ORDER BY depth, discovered_at "
             "LIMIT 1) RETURNING url, depth"),
        {"token": uuid.uuid4().hex, "until": now + LEASE, "now": now},
    ).first()  # fmt: skip
    return (str(row[0]), int(row[1])) if row is not None else None


def finish(
    connection: Connection,
    url: str,
    *,
    state: str,
    kind: str | None = None,
    message: str | None = None,
) -> None:
    """Mark a leased URL `done`, `listing`, `part` or `failed` (with the error)."""
    connection.execute(
        text("UPDATE frontier SET state = :state, lease_token = NULL, lease_until = NULL, "
             "last_error_kind = :kind, last_error = :message, updated_at = :now WHERE url = :url"),
        {"state": state, "kind": kind, "message": message, "now": _now(), "url": url},
    )  # fmt: skip


def counts(connection: Connection) -> dict[str, int]:
    """How many URLs are in each state."""
    rows = connection.execute(text("SELECT state, count(*) FROM frontier GROUP BY state"))
    return {str(state): int(n) for state, n in rows}
