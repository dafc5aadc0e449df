"""The crawl frontier in the database, so a crawl can stop anywhere and the next one resumes.

Each URL moves `pending -> leased -> done | listing | part | failed`: `done` for an article,
`listing` for a page that is not one (an index, a channel list), `part` for a later page of a
multi-page article (fetched with its first page, never on its own). A claim leases one URL to a
crawl with a random token and an expiry (`lease_until`); the crawl renews its leases while it
works, and the page's rows and its frontier mark are written in one transaction that is fenced
by the token: a crawl whose lease ran out (and whose URL another worker took over) cannot
overwrite the newer work.

Two ways of claiming:

- A single crawl (SQLite, or PostgreSQL without `--worker`) holds the archive's run lock, so no
  other crawl is alive: `begin` gives back every lease at the start, and a claim is one
  `UPDATE ... RETURNING` of the shallowest pending URL. Politeness is the fetcher's business.
- Workers (`xinwen crawl --worker`, PostgreSQL) share the frontier with other processes on other
  machines. A claim locks one `host` row with `FOR UPDATE SKIP LOCKED`, counts that host's live
  leases, and takes a URL only if the count is under the host's limit and its `next_allowed_at`
  has come; then it moves `next_allowed_at` on by the host's delay. Every claim on a host goes
  through its row lock, so the per-host concurrency and delay hold for the whole fleet, without a
  coordinator. A lease that expires (its worker died) is taken over by the next claim; a URL
  whose leases expired `MAX_LOST` times (it keeps killing workers) ends `failed`
  (`worker_lost`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

from ..urls import host_of

# A single crawl renews its leases too, but nobody else waits for them: long, so a crawl stuck
# in a slow fetch never loses its URL to the next run. Workers pass their own, shorter lease.
LEASE = timedelta(minutes=30)
# A URL whose worker vanished this many times is failed rather than handed to a fourth.
MAX_LOST = 3
# Hosts locked per claim attempt: enough to find a free one behind busy or resting hosts.
_HOSTS_PER_CLAIM = 8

# The statements of every page, built once (a text() built per call was parsed for its
# parameters and given a cache key each time).
_ADD = text(
    "INSERT INTO frontier (url, host, state, depth, attempts, lost, discovered_at, updated_at) "
    "VALUES (:u, :h, :s, :d, 0, 0, :now, :now) ON CONFLICT (url) DO NOTHING"
)
_ADD_PART = text(
    "UPDATE frontier SET state = 'part', lease_token = NULL, lease_until = NULL, "
    "updated_at = :now WHERE url = :u AND state <> 'part'"
)
_ADD_HOST = text(
    "INSERT INTO host (host, next_allowed_at) VALUES (:h, :now) ON CONFLICT (host) DO NOTHING"
)
_CLAIM = text(
    "UPDATE frontier SET state = 'leased', lease_token = :token, lease_until = :until, "
    "attempts = attempts + 1, updated_at = :now WHERE url = ("
    "SELECT url FROM frontier WHERE state = 'pending' ORDER BY depth, discovered_at LIMIT 1) "
    "RETURNING url, depth"
)
_FINISH_SQL = (
    "UPDATE frontier SET state = :state, lease_token = NULL, lease_until = NULL, "
    "last_error_kind = :kind, last_error = :message, updated_at = :now WHERE url = :url"
)
_FINISH = text(_FINISH_SQL)
_FINISH_FENCED = text(_FINISH_SQL + " AND lease_token = :token")  # only while the lease holds


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Lease:
    """A claimed URL: the token fences every write about it."""

    url: str
    depth: int
    token: str


def begin(
    connection: Connection,
    starts: list[str],
    recent: timedelta,
    rest: timedelta,
    *,
    shared: bool = False,
) -> None:
    """Queue what this crawl must read again, and its start URLs.

    Listings are read again to find what is new, and articles found within `recent` to catch
    edits, but only once they have rested for `rest` since their last fetch: a crawl resumed
    after a crash does not fetch again what the dead one finished. Older articles are left
    alone: a cron run fetches what is new and what is recent, not the whole archive.

    A single crawl (`shared=False`) also gives back every lease: the run lock guarantees no
    other crawl is alive to own them. A worker leaves other workers' leases alone; those of a
    dead worker are taken over when they expire.
    """
    now = _now()
    leased = "" if shared else "state = 'leased' OR "
    connection.execute(
        text("UPDATE frontier SET state = 'pending', lease_token = NULL, lease_until = NULL "
             f"WHERE {leased}(updated_at <= :rested AND (state = 'listing' "
             "OR (state = 'done' AND discovered_at >= :recent)))"),
        {"rested": now - rest, "recent": now - recent},
    )  # fmt: skip
    if shared:
        # Workers joining a fleet name the same start URLs: a known one was queued already
        # (and is read again, like any listing, once it has rested).
        add(connection, starts, depth=0)
        return
    for url in starts:
        updated = connection.execute(
            text("UPDATE frontier SET state = 'pending', depth = 0, updated_at = :now "
                 "WHERE url = :url AND state <> 'leased'"),
            {"url": url, "now": now},
        )  # fmt: skip
        if updated.rowcount == 0:
            add(connection, [url], depth=0)


def add(connection: Connection, found: list[str], *, depth: int, state: str = "pending") -> None:
    """Record URLs not seen before; URLs already known keep their state, except that `part`
    (a later page of a multi-page article) applies to known URLs too.

    One batched `INSERT ... ON CONFLICT DO NOTHING`: a sitemap's 50,000 URLs go in at once, and
    two workers finding the same link at once both succeed.
    """
    if not found:
        return
    now = _now()
    rows: list[dict[str, object]] = [
        {"u": url, "h": host_of(url), "s": state, "d": depth, "now": now} for url in found
    ]
    connection.execute(_ADD, rows)
    if state == "part":  # a later part of an article is never crawled on its own, known or not
        connection.execute(_ADD_PART, [{"u": url, "now": now} for url in found])
    hosts = sorted({host_of(url) for url in found})  # sorted: workers lock rows in one order
    connection.execute(_ADD_HOST, [{"h": host, "now": now} for host in hosts])


def claim(connection: Connection, lease: timedelta = LEASE) -> Lease | None:
    """Lease the next pending URL (shallowest first), for a crawl that runs alone."""
    now = _now()
    token = uuid.uuid4().hex
    row = connection.execute(_CLAIM, {"token": token, "until": now + lease, "now": now}).first()
    return Lease(str(row[0]), int(row[1]), token) if row is not None else None


def claim_shared(
    connection: Connection, *, lease: timedelta, per_host: int, delay: float
) -> Lease | None:
    """Lease a URL for one of many workers, keeping every host's limits for the whole fleet.

    PostgreSQL only (`FOR UPDATE SKIP LOCKED`); run it in its own transaction, which holds the
    host row locks until it commits. `delay` is the least gap between two claims on one host;
    a host's own `delay` (robots.txt's Crawl-delay, recorded by `set_delay`) can make it longer.
    """
    now = _now()
    tried: list[str] = []
    while len(tried) < _HOSTS_PER_CLAIM:
        # One host at a time: a claimer locks only the hosts it looks at (until it commits,
        # milliseconds later), and the other claimers find the rest free.
        skip = "".join(f" AND h.host <> :s{n}" for n in range(len(tried)))
        found = connection.execute(
            text("SELECT h.host, h.delay FROM host h WHERE h.next_allowed_at <= :now"
                 f"{skip} AND EXISTS (SELECT 1 FROM frontier f WHERE f.host = h.host AND "
                 "(f.state = 'pending' OR (f.state = 'leased' AND f.lease_until < :now))) "
                 "ORDER BY h.next_allowed_at LIMIT 1 FOR UPDATE SKIP LOCKED"),
            {"now": now, **{f"s{n}": host for n, host in enumerate(tried)}},
        ).first()  # fmt: skip
        if found is None:
            return None
        host, host_delay = str(found[0]), found[1]
        tried.append(host)
        # Under the host's row lock, so no other claim on this host is counting at the same time.
        live = connection.execute(
            text("SELECT count(*) FROM frontier WHERE host = :h AND state = 'leased' "
                 "AND lease_until >= :now"),
            {"h": host, "now": now},
        ).scalar_one()  # fmt: skip
        if live >= per_host:
            continue
        while True:
            row = connection.execute(
                # A dead worker's URLs first: they were due before anything still pending.
                text("SELECT url, depth, state, lost FROM frontier WHERE host = :h AND "
                     "(state = 'pending' OR (state = 'leased' AND lease_until < :now)) "
                     "ORDER BY state = 'leased' DESC, depth, discovered_at "
                     "LIMIT 1 FOR UPDATE SKIP LOCKED"),
                {"h": host, "now": now},
            ).first()  # fmt: skip
            if row is None or row[2] != "leased" or int(row[3]) + 1 < MAX_LOST:
                break
            _fail_lost(connection, str(row[0]), now)  # it keeps killing workers
        if row is None:
            continue
        url, depth, state = str(row[0]), int(row[1]), str(row[2])
        token = uuid.uuid4().hex
        connection.execute(
            text("UPDATE frontier SET state = 'leased', lease_token = :token, lease_until = :until,"
                 " attempts = attempts + 1, lost = lost + :lost, updated_at = :now WHERE url = :u"),
            {"token": token, "until": now + lease, "now": now, "u": url,
             "lost": 1 if state == "leased" else 0},
        )  # fmt: skip
        gap = max(delay, float(host_delay or 0.0))
        connection.execute(
            text("UPDATE host SET next_allowed_at = :next WHERE host = :h"),
            {"next": now + timedelta(seconds=gap), "h": host},
        )
        return Lease(url, depth, token)
    return None


def _fail_lost(connection: Connection, url: str, now: datetime) -> None:
    connection.execute(
        text("UPDATE frontier SET state = 'failed', lease_token = NULL, lease_until = NULL, "
             "lost = lost + 1, last_error_kind = 'worker_lost', last_error = :message, "
             "updated_at = :now WHERE url = :u"),
        {"now": now, "u": url, "message": f"the worker holding it vanished {MAX_LOST} times"},
    )  # fmt: skip


def renew(connection: Connection, tokens: list[str], lease: timedelta) -> int:
    """Push back the expiry of the leases with these tokens; returns how many are still ours."""
    if not tokens:
        return 0
    marks = ", ".join(f":t{n}" for n in range(len(tokens)))
    result = connection.execute(
        text(f"UPDATE frontier SET lease_until = :until WHERE lease_token IN ({marks})"),
        {"until": _now() + lease, **{f"t{n}": token for n, token in enumerate(tokens)}},
    )
    return int(result.rowcount)


def release(connection: Connection, tokens: list[str]) -> None:
    """Give leases back unfinished (a worker stopping with work in hand), for others to take."""
    for token in tokens:
        connection.execute(
            text("UPDATE frontier SET state = 'pending', lease_token = NULL, lease_until = NULL "
                 "WHERE lease_token = :t AND state = 'leased'"),
            {"t": token},
        )  # fmt: skip


def finish(
    connection: Connection,
    url: str,
    *,
    state: str,
    kind: str | None = None,
    message: str | None = None,
    token: str | None = None,
) -> bool:
    """Mark a URL `done`, `listing`, `part` or `failed` (with the error).

    With a `token`, only while that lease is still held: False if it was lost (the caller rolls
    back what it was about to commit with it).
    """
    result = connection.execute(
        _FINISH if token is None else _FINISH_FENCED,
        {"state": state, "kind": kind, "message": message, "now": _now(), "url": url,
         "token": token},
    )  # fmt: skip
    return token is None or result.rowcount == 1


def set_delay(connection: Connection, host: str, delay: float) -> None:
    """Record a host's own least gap between requests (robots.txt's Crawl-delay)."""
    connection.execute(
        text("UPDATE host SET delay = :d WHERE host = :h AND (delay IS NULL OR delay <> :d)"),
        {"d": delay, "h": host},
    )


def unfinished(connection: Connection) -> int:
    """URLs some crawl may still work on: pending, or leased (live or expired)."""
    return int(
        connection.execute(
            text("SELECT count(*) FROM frontier WHERE state IN ('pending', 'leased')")
        ).scalar_one()
    )


def counts(connection: Connection) -> dict[str, int]:
    """How many URLs are in each state."""
    rows = connection.execute(text("SELECT state, count(*) FROM frontier GROUP BY state"))
    return {str(state): int(n) for state, n in rows}
