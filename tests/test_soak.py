"""The mini-soak (fault matrix, "Load and soak figures": T1 with T2's permanent faults, then T3's
kill -9 and T4's overlap, in small), through the real command line.

A generated site of 1,000 articles on tests/faultserver.py (`/gen/<seed>/<pages>/`, see
`site_plan` there): 5% of the articles have a transient fault (503 once or twice, a reset, a
truncated gzip body, a slow body, GBK bytes under a utf-8 header) and 2% a permanent one
(always 500, or 404). Every count is checked on both sides: what the archive says and how often
the server was asked for each URL.

The kill lands after a seeded share (10-80%) of the articles is finished; `XINWEN_SOAK_SEED`
picks another (the default is fixed, so CI is repeatable).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from faultserver import PERMANENT, TRANSIENT, running, site_expected_hits, site_plan, site_title

from xinwen import store

PAGES = 1000
SITE_SEED = 7
KILL_SEED = int(os.environ.get("XINWEN_SOAK_SEED", "4"))
CONCURRENCY = 16
# Retries wait up to 50 ms, 100 ms, 200 ms: the production schedule (1 s doubling) shrunk, so
# the 500s' three retries do not dominate the run.
CRAWL = ["--delay", "0", "--concurrency", str(CONCURRENCY), "--max-pages", "5000",
         "--backoff", "0.05"]  # fmt: skip


@dataclass
class Site:
    server: str  # http://127.0.0.1:<port>
    base: str  # the generated site's index

    def hits(self) -> dict[str, int]:
        """Requests per target (path as sent) so far, for every target the server has seen."""
        report = httpx.get(f"{self.server}/__hits", trust_env=False).json()
        return {target: counts["hits"] for target, counts in report.items()}

    def reset(self) -> None:
        """Forget the counters: the transient faults, which key on them, strike again."""
        httpx.get(f"{self.server}/__reset", trust_env=False)

    def url(self, target: str) -> str:
        return self.server + target


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    log = tmp_path_factory.mktemp("soakserver") / "stderr.log"
    with running(log) as ports:
        server = f"http://127.0.0.1:{ports['port']}"
        yield Site(server, f"{server}/gen/{SITE_SEED}/{PAGES}/")


def _crawl(site: Site, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xinwen", "crawl", site.base, "--db", str(db), *CRAWL, *extra]


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _article_path(n: int) -> str:
    return f"/gen/{SITE_SEED}/{PAGES}/a/{n}.html"


def _check_archive(site: Site, db: Path) -> dict[str, tuple[str, str | None]]:
    """Everything that must hold of the archive after a complete crawl of the site; returns
    the frontier (url -> state, last error kind) for comparing runs."""
    plan = site_plan(SITE_SEED, PAGES)
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    frontier = {url: (state, kind) for url, state, kind in
                _rows(db, "SELECT url, state, last_error_kind FROM frontier")}  # fmt: skip
    articles = dict(_rows(db, "SELECT url, title FROM article"))
    encodings = dict(_rows(db, "SELECT url, encoding FROM article"))
    assert _rows(db, "SELECT count(*) - count(DISTINCT url) FROM article") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM article WHERE instr(title, char(65533)) > 0") == [(0,)]
    assert not [s for s, _ in frontier.values() if s in ("pending", "leased")]
    for n in range(PAGES):
        url = site.url(_article_path(n))
        fault = plan.get(n)
        if fault in PERMANENT:
            # Failed with its kind; never stored. 500 was retried, 404 was not.
            assert frontier[url] == ("failed", "http_status"), (n, fault)
            assert url not in articles
            fetches = _rows(db, f"SELECT http_status, attempts, error_kind FROM fetch "
                                f"WHERE url = '{url}' ORDER BY id DESC LIMIT 1")  # fmt: skip
            attempts = site_expected_hits(fault)
            assert fetches == [(int(fault), attempts, "http_status")], (n, fetches)
        else:
            # Transient or healthy: done, stored once, and the headline decoded exactly
            # (the GBK page under a utf-8 header included).
            assert frontier[url] == ("done", None), (n, fault)
            assert articles[url] == site_title(n), (n, fault)
            # GBK under a utf-8 header is read as GB18030 (GBK's superset), the rest as UTF-8.
            expected = "gb18030" if fault == "gbk-mislabelled" else "utf-8"
            assert encodings[url] == expected, (n, fault, encodings[url])
    assert len(articles) == PAGES - sum(1 for f in plan.values() if f in PERMANENT)
    listings = [url for url, (state, _) in frontier.items() if state == "listing"]
    assert len(listings) == PAGES // 50 + 1  # the index and the listing pages
    return frontier


@dataclass
class FirstRun:
    db: Path
    frontier: dict[str, tuple[str, str | None]]
    hits: dict[str, int]  # server-side requests per target during the run


@pytest.fixture(scope="module")
def first_run(site: Site, tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    db = tmp_path_factory.mktemp("soak1") / "soak.db"
    site.reset()
    result = subprocess.run(_crawl(site, db), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    hits = site.hits()
    return FirstRun(db, _check_archive(site, db), hits)


def test_plan_has_every_fault_kind():
    plan = site_plan(SITE_SEED, PAGES)
    transient = [f for f in plan.values() if f in TRANSIENT]
    permanent = [f for f in plan.values() if f in PERMANENT]
    assert len(transient) == 50 and len(permanent) == 20
    assert set(transient) == set(TRANSIENT) and set(permanent) == set(PERMANENT)


def test_soak_every_url_ends_as_its_fault_says(site: Site, first_run: FirstRun):
    # The archive side is checked by the fixture; here the server side: every article was
    # requested exactly as often as its fault calls for (a retry for each transient failure,
    # four attempts for a 500, one for a 404), every listing once: nothing fetched twice.
    plan = site_plan(SITE_SEED, PAGES)
    for n in range(PAGES):
        assert first_run.hits.get(_article_path(n), 0) == site_expected_hits(plan.get(n)), n
    prefix = f"/gen/{SITE_SEED}/{PAGES}/"
    others = {t: n for t, n in first_run.hits.items() if "/a/" not in t and t.startswith(prefix)}
    assert len(others) == PAGES // 50 + 1 and set(others.values()) == {1}, others


def _kill_point() -> int:
    """Articles finished before the kill: uniform in 10-80% of them (seeded). A point in the work,
    not in time, so that a busy machine moves it nowhere."""
    return round(random.Random(KILL_SEED).uniform(0.1, 0.8) * PAGES)


def _finished(db: Path) -> int:
    try:
        [(n,)] = _rows(db, "SELECT count(*) FROM frontier WHERE state IN ('done', 'failed')")
    except sqlite3.Error:  # not created yet
        return 0
    return int(n)


def test_soak_kill_9_then_resume(site: Site, first_run: FirstRun, tmp_path: Path):
    db = tmp_path / "soak.db"
    start_url = site.base
    site.reset()
    crawler = subprocess.Popen(_crawl(site, db), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    target = _kill_point()
    try:
        while _finished(db) < target and crawler.poll() is None:
            time.sleep(0.02)
    finally:
        crawler.send_signal(signal.SIGKILL)  # a no-op if it has already ended
        crawler.wait(timeout=10)
    # What the dead crawl finished, and what it held.
    state = dict(_rows(db, "SELECT url, state FROM frontier"))
    finished = {url for url, s in state.items() if s in ("done", "listing", "failed")}
    leased = {url for url, s in state.items() if s == "leased"}
    # One lease per crawl task (twice the concurrency: pipeline._Crawl.go), plus the URLs whose
    # marks were in a write batch not yet committed (an archive without batches has none).
    assert len(leased) <= 2 * CONCURRENCY + getattr(store, "BATCH_WRITES", 0), len(leased)
    assert target <= _finished(db) < PAGES, "the kill should land mid-crawl"
    hits_killed = site.hits()

    result = subprocess.run(_crawl(site, db), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # The same totals as an uninterrupted crawl, URL by URL.
    assert _check_archive(site, db) == first_run.frontier
    hits_after = site.hits()
    resumed = {t: n - hits_killed.get(t, 0) for t, n in hits_after.items()}
    for url in finished - {start_url}:
        # Nothing the dead crawl finished was asked for again (the start URL always is).
        assert resumed.get(url.removeprefix(site.server), 0) == 0, url
    plan = site_plan(SITE_SEED, PAGES)
    for n in range(PAGES):
        url = site.url(_article_path(n))
        both = hits_after.get(_article_path(n), 0)
        if url in leased:  # in flight at the kill: fetched again, whatever was done of it
            assert both >= site_expected_hits(plan.get(n)), n
        else:
            assert both == site_expected_hits(plan.get(n)), n
    runs = _rows(db, "SELECT status FROM run ORDER BY id")
    assert runs == [("running",), ("finished",)]  # the killed run shows as still running


def test_soak_overlapping_runs(site: Site, tmp_path: Path):
    # The first run is kept busy for a few seconds (0.4 s between requests); the second
    # starts 300 ms later on the same archive, must leave at once with exit 75 and one line,
    # and must not have touched the archive or the site.
    db = tmp_path / "soak.db"
    site.reset()
    slow = [*_crawl(site, db), "--delay", "0.4", "--max-pages", "8"]
    first = subprocess.Popen(slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        started = time.monotonic()
        second = subprocess.run(_crawl(site, db), capture_output=True, text=True, timeout=60)
        second_seconds = time.monotonic() - started
        first_alive = first.poll() is None
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == 75, (second.stdout, second.stderr)
    assert second.stdout == "" and second.stderr.count("\n") == 1, second.stderr
    assert "another xinwen crawl is running" in second.stderr
    assert first_alive, "the first run should still have been running"
    assert second_seconds < 10, second_seconds  # at once: it waited for nothing
    assert first.returncode == 0, err
    # Only the first run wrote: one run row, and every fetch row is its own.
    assert _rows(db, "SELECT count(*), min(id) FROM run") == [(1, 1)]
    assert _rows(db, "SELECT count(*) FROM fetch WHERE run_id IS NOT 1") == [(0,)]
    # ... and only the first run asked the site for anything: the server saw exactly the
    # requests its fetch rows account for (each with its attempts), plus its robots.txt.
    asked = sum(site.hits().values())
    logged = _rows(db, "SELECT sum(attempts), count(*) FROM fetch")[0]
    assert logged[1] == 8 and asked == logged[0] + 1, (asked, logged, out)
