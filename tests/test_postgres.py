"""PostgreSQL: the same archive, search, views and CLI as on SQLite, and many workers sharing one
frontier (fault matrix rows 44 and 45). Every test gets a new database on the server named by
XINWEN_TEST_PG, and skips with that reason when there is none (.ci/run starts one)."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from xinwen import Archive
from xinwen.errors import LeaseLost
from xinwen.store import frontier
from xinwen.store.tables import SCHEMA_VERSION

sys.path.insert(0, str(Path(__file__).parent))
import pgsite

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _xinwen(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xinwen", *args], capture_output=True, text=True, timeout=timeout
    )


def _rows(db: str, sql: str) -> list[tuple[object, ...]]:
    with Archive(db) as archive, archive.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_schema_views_and_documented_sql_on_postgres(pg_url: str):
    with Archive(pg_url) as archive:
        assert archive.version == SCHEMA_VERSION >= 9
        assert archive.migrated == list(range(1, SCHEMA_VERSION + 1))
    names = {
        r[0] for r in _rows(pg_url, "SELECT viewname FROM pg_views WHERE schemaname = 'public'")
    }
    assert names == {"latest_articles", "failures_24h", "site_health"}
    # Every ```sql example of docs/schema.md marked for PostgreSQL runs there.
    blocks = re.findall(r"```sql\n(.*?)```", (DOCS / "schema.md").read_text("utf-8"), flags=re.S)
    postgres = [b for b in blocks if b.startswith("-- PostgreSQL")]
    assert postgres
    for block in postgres:
        code = "\n".join(line for line in block.splitlines() if not line.startswith("--"))
        _rows(pg_url, code.rstrip().rstrip(";"))
    # Opening it again applies nothing; `xinwen db migrate` says so.
    result = _xinwen("db", "migrate", "--db", pg_url)
    assert result.returncode == 0
    assert result.stdout == f"already at schema version {SCHEMA_VERSION}\n"


def _articles(db: str) -> list[tuple[object, ...]]:
    return _rows(
        db,
        "SELECT url, title, category, published_at, author, source, body, flags FROM article "
        "ORDER BY url",
    )


def _search(db: str, query: str) -> set[str]:
    result = _xinwen("search", query, "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    return {hit["url"] for hit in json.loads(result.stdout)}


def test_demo_crawl_search_and_stats_match_sqlite(pg_url: str, tmp_path: Path):
    sqlite_db = str(tmp_path / "demo.db")
    for db in (sqlite_db, pg_url):
        result = _xinwen("demo", "--db", db)
        assert result.returncode == 0, result.stderr
    assert _articles(pg_url) == _articles(sqlite_db)
    assert len(_articles(pg_url)) == 4
    for query in ("逾期", "贷", "众信普惠逾期", "首批覆盖", "逾期 征信", "GDP", "不存在的词"):
        on_sqlite = _search(sqlite_db, query)
        assert _search(pg_url, query) == on_sqlite, query
    assert _search(pg_url, "逾期") and not _search(pg_url, "不存在的词")
    stats = json.loads(_xinwen("stats", "--db", pg_url, "--json").stdout)
    assert stats[0]["site"] == "demo" and stats[0]["articles"] == 4
    # A second crawl adds no rows, as on SQLite.
    assert _xinwen("demo", "--db", pg_url).returncode == 0
    assert len(_articles(pg_url)) == 4


def test_copy_sqlite_to_postgres_and_back(pg_url: str, tmp_path: Path):
    source = str(tmp_path / "a.db")
    assert _xinwen("demo", "--db", source).returncode == 0
    result = _xinwen("copy", "--from", source, "--to", pg_url)
    assert result.returncode == 0, result.stderr
    assert "4 article" in result.stdout
    assert _articles(pg_url) == _articles(source)
    back = str(tmp_path / "b.db")
    assert _xinwen("copy", "--from", pg_url, "--to", back).returncode == 0
    assert _articles(back) == _articles(source)
    for table in ("payload", "capture", "section", '"fetch"', "frontier"):
        assert _rows(back, f"SELECT count(*) FROM {table.strip(chr(34))}") == _rows(
            pg_url, f"SELECT count(*) FROM {table}"
        )
    # The copy is searchable, and new rows get new ids after the copied ones.
    hits = json.loads(_xinwen("search", "逾期", "--db", pg_url, "--json").stdout)
    assert hits
    # Into a non-empty archive: refused, nothing written.
    again = _xinwen("copy", "--from", source, "--to", pg_url)
    assert again.returncode == 2 and "copy into an empty archive" in again.stderr
    assert len(_articles(pg_url)) == 4


def _seed(db: str, urls: list[str]) -> None:
    with Archive(db) as archive:
        archive.frontier_add(urls, depth=1)


def test_concurrent_claims_are_disjoint(pg_url: str):
    """Row 45: 8 claimers on 200 pending URLs never get the same one."""
    urls = [f"http://h{n % 10}.test/{n}" for n in range(200)]
    _seed(pg_url, urls)
    claimed: list[list[str]] = [[] for _ in range(8)]
    barrier = threading.Barrier(8)

    def claimer(slot: int) -> None:
        with Archive(pg_url) as archive:
            barrier.wait()
            # None means "nothing free right now" (every host locked by another claimer), so
            # claim until the frontier says nothing is pending any more.
            while archive.frontier_counts().get("pending"):
                got = archive.frontier_claim(shared=True, per_host=1000, delay=0)
                if got is not None:
                    claimed[slot].append(got[0])

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [url for urls_ in claimed for url in urls_]
    assert len(every) == len(set(every))  # pairwise disjoint
    assert set(every) <= set(urls)
    assert len(every) == 200
    assert sum(1 for urls_ in claimed if urls_) > 1  # they did compete


def test_per_host_limit_and_delay_hold_across_claimers(pg_url: str):
    _seed(pg_url, [f"http://one.test/{n}" for n in range(10)])
    with Archive(pg_url) as a, Archive(pg_url) as b:
        first = a.frontier_claim(shared=True, per_host=2, delay=0)
        second = b.frontier_claim(shared=True, per_host=2, delay=0)
        assert first and second and first != second
        assert a.frontier_claim(shared=True, per_host=2, delay=0) is None  # 2 in flight
        with a.engine.begin() as connection:
            frontier.finish(connection, first[0], state="done")
        assert b.frontier_claim(shared=True, per_host=2, delay=0) is not None
        # A delay: the next claim on the host waits for it, whoever claims.
        assert a.frontier_claim(shared=True, per_host=10, delay=0.5) is not None
        assert b.frontier_claim(shared=True, per_host=10, delay=0.5) is None
        time.sleep(0.6)
        assert b.frontier_claim(shared=True, per_host=10, delay=0.5) is not None


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced(pg_url: str):
    url = "http://one.test/a.html"
    _seed(pg_url, [url])
    with Archive(pg_url) as slow, Archive(pg_url) as other:
        assert slow.frontier_claim(shared=True, lease=timedelta(seconds=0.2), delay=0)
        assert other.frontier_claim(shared=True, delay=0) is None  # still leased
        time.sleep(0.3)
        assert other.frontier_claim(shared=True, delay=0) == (url, 1)  # taken over
        with pytest.raises(LeaseLost) as caught:
            slow.save_failure(url, kind="timeout", message="late", frontier_url=url)
        assert caught.value.lease_url == url
        # The late write was rolled back: no fetch row, and the new holder still holds it.
        assert _rows(pg_url, 'SELECT count(*) FROM "fetch"') == [(0,)]
        assert _rows(pg_url, "SELECT state, lost FROM frontier") == [("leased", 1)]
        other.save_failure(url, kind="timeout", message="ok", frontier_url=url)
        assert _rows(pg_url, "SELECT state FROM frontier") == [("failed",)]


def test_a_url_that_keeps_killing_workers_ends_failed(pg_url: str):
    url = "http://one.test/poison.html"
    _seed(pg_url, [url])
    with Archive(pg_url) as archive:
        for _ in range(frontier.MAX_LOST):
            assert archive.frontier_claim(shared=True, lease=timedelta(seconds=0.1), delay=0)
            time.sleep(0.15)  # the "worker" dies: its lease runs out
        assert archive.frontier_claim(shared=True, delay=0) is None
    assert _rows(pg_url, "SELECT state, last_error_kind, lost FROM frontier") == [
        ("failed", "worker_lost", frontier.MAX_LOST)
    ]


def test_overlapping_runs_on_postgres(pg_url: str):
    start = "http://127.0.0.1:9/"  # never fetched: each run stops at the lock
    with Archive(pg_url) as archive, archive.run_lock(shared=False):
        alone = _xinwen("crawl", start, "--db", pg_url)
        worker = _xinwen("crawl", "--worker", start, "--db", pg_url)
    assert alone.returncode == 75 and "running on this archive" in alone.stderr
    assert worker.returncode == 75
    assert _rows(pg_url, "SELECT count(*) FROM run") == [(0,)]  # nothing touched
    with Archive(pg_url) as archive, archive.run_lock(shared=True):  # workers are running
        alone = _xinwen("crawl", start, "--db", pg_url)
    assert alone.returncode == 75
    assert _rows(pg_url, "SELECT count(*) FROM frontier") == [(0,)]


def test_worker_needs_postgres(tmp_path: Path):
    result = _xinwen("crawl", "--worker", "http://127.0.0.1:9/", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "needs a PostgreSQL archive" in result.stderr
    assert not (tmp_path / "x.db").exists()


def _worker(db: str, starts: list[str], *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "xinwen", "crawl", "--worker", "--db", db, "--delay", "0",
               "--concurrency", "8", "--per-host", "2", "--max-pages", "100000", "--json",
               *extra, *starts]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_workers_share_one_frontier_and_survive_a_kill(pg_url: str):
    """The issue's test: 4 worker processes, 2,000 pages on 4 hosts; each page fetched once,
    no duplicate rows, per-host concurrency never above 2 at the server; a worker killed with
    kill -9 mid-run has its URLs finished by the others once its lease runs out."""
    lease = 3.0
    Archive(pg_url).close()  # migrate once up front, as `xinwen db init` would
    with pgsite.serve(hosts=4, pages=500, latency=0.01) as site:
        workers = [_worker(pg_url, site.starts, "--lease", str(lease)) for _ in range(4)]
        victim = workers[0]
        rng = random.Random(44)
        kill_at = rng.randint(300, 1200)
        deadline = time.monotonic() + 180
        while sum(site.article_hits().values()) < kill_at and time.monotonic() < deadline:
            if victim.poll() is not None:
                break
            time.sleep(0.05)
        assert victim.poll() is None, "the victim finished before the kill"
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        victim.communicate()  # reaped, and its pipes closed
        # The leases held at the kill: the victim's are the ones that stay put until they
        # expire; each is settled once its URL is finished or leased to another worker.
        held = dict(_rows(pg_url, "SELECT url, lease_token FROM frontier WHERE state = 'leased'"))
        settled_at = None
        while any(w.poll() is None for w in workers[1:]) and time.monotonic() < deadline + 60:
            if settled_at is None:
                tokens = dict(_rows(pg_url, "SELECT url, lease_token FROM frontier"))
                if all(tokens[url] != token for url, token in held.items()):
                    settled_at = time.monotonic()
            time.sleep(0.2)
        outputs = [w.communicate(timeout=60) for w in workers[1:]]
        for worker, (_, err) in zip(workers[1:], outputs, strict=True):
            assert worker.returncode == 0, err
        hits = site.article_hits()
        max_inflight = dict(site.max_inflight)
    assert held  # the victim died holding leases
    summaries = [json.loads(out) for out, _ in outputs]
    assert sum(s["new"] for s in summaries) >= 1
    # Every page done, stored once.
    assert _rows(pg_url, "SELECT state, count(*) FROM frontier GROUP BY state ORDER BY 1") == [
        ("done", 2000), ("listing", 4)
    ]  # fmt: skip
    assert _rows(pg_url, "SELECT count(*), count(DISTINCT url) FROM article") == [(2000, 2000)]
    # Fetched once each, but for what the victim had in flight when it died (at most its
    # concurrency), which another worker fetched again.
    assert len(hits) == 2000
    again = [path for path, n in hits.items() if n > 1]
    assert len(again) <= 8 and all(hits[p] == 2 for p in again)
    # Per-host limit at the server, whichever of the 4 workers sent the request.
    assert max(max_inflight.values()) <= 2
    assert min(max_inflight.values()) == 2  # and the limit was actually reached
    # The dead worker's URLs went to the others once its lease ran out (plus a few polls).
    assert settled_at is not None and settled_at - killed_at < lease + 10
    assert _rows(pg_url, "SELECT count(*) FROM run WHERE status = 'finished'") == [(3,)]
    assert _rows(pg_url, "SELECT count(*) FROM run WHERE status = 'running'") == [(1,)]


def test_the_fleet_keeps_a_host_delay(pg_url: str):
    Archive(pg_url).close()
    with pgsite.serve(hosts=1, pages=12) as site:
        workers = [_worker(pg_url, site.starts, "--delay", "0.25") for _ in range(2)]
        for worker in workers:
            _, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
        pages = sorted(t for t, path in site.started[0] if path != "/robots.txt")
    assert len(pages) == 13  # the index and 12 articles, each once
    # The fleet spaces its claims on the host by the delay, whichever worker makes them, and a
    # request follows its claim; on a busy machine one may follow late and the next on time,
    # so single gaps vary (as Scrapy's randomized delay does) while the rate holds.
    gaps = sorted(b - a for a, b in itertools.pairwise(pages))
    assert gaps[len(gaps) // 2] >= 0.25 * 0.8, gaps
    assert pages[-1] - pages[0] >= 12 * 0.25 * 0.95


def test_sql_reads_and_refuses_writes_on_postgres(pg_url: str):
    """Row 43 on PostgreSQL: the server's read-only transaction is the guard."""
    assert _xinwen("demo", "--db", pg_url).returncode == 0
    before = _rows(
        pg_url, "SELECT (SELECT count(*) FROM article), (SELECT last_value FROM article_id_seq)"
    )
    ok = _xinwen(
        "sql", "SELECT title FROM latest_articles LIMIT 2", "--db", pg_url, "--format", "json"
    )
    assert ok.returncode == 0 and len(json.loads(ok.stdout)) == 2
    for statement in (
        "DELETE FROM article",
        "WITH gone AS (DELETE FROM article RETURNING id) SELECT * FROM gone",
        "SELECT 1; DELETE FROM article",
        "SELECT nextval('article_id_seq')",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "CREATE TABLE evil (x int)",
        "SET default_transaction_read_only = off",
        "SELECT * FROM no_such_table",
    ):
        result = _xinwen("sql", statement, "--db", pg_url)
        if "set_config" in statement:  # allowed to run, but changes nothing that lasts
            assert result.returncode == 0, result.stderr
            continue
        assert result.returncode == 2, (statement, result.stdout, result.stderr)
        assert result.stderr.startswith("xinwen: error: ") and result.stderr.count("\n") == 1
    assert (
        _rows(
            pg_url, "SELECT (SELECT count(*) FROM article), (SELECT last_value FROM article_id_seq)"
        )
        == before
    )
    assert _rows(pg_url, "SELECT to_regclass('evil')") == [(None,)]


def test_verify_finds_a_flipped_byte_on_postgres(pg_url: str):
    # Fault matrix row 47 on PostgreSQL: the payloads are read through a server-side cursor.
    assert _xinwen("demo", "--db", pg_url).returncode == 0
    clean = _xinwen("verify", "--db", pg_url)
    assert clean.returncode == 0 and clean.stdout.endswith("all match\n"), clean.stderr
    [(victim,)] = _rows(pg_url, "SELECT sha256 FROM payload ORDER BY sha256 LIMIT 1")
    with Archive(pg_url) as archive, archive.engine.begin() as connection:
        # The last byte of the zstd frame, flipped in place.
        connection.execute(
            text(
                "UPDATE payload SET data = set_byte(data, length(data) - 1,"
                " get_byte(data, length(data) - 1) # 1) WHERE sha256 = :s"
            ),
            {"s": victim},
        )
    damaged = _xinwen("verify", "--db", pg_url)
    assert damaged.returncode == 1
    [line] = damaged.stdout.splitlines()
    assert line.startswith(f"{victim}: ") and "1 does not match" in damaged.stderr
