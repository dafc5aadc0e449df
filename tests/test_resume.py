"""A crawl killed with kill -9 resumes where it stopped: nothing done is fetched again, nothing
is lost or stored twice; and later runs fetch only listings, new and recent pages."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinwen.cli import app

runner = CliRunner()


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(sql).fetchone()[0])


def test_kill_9_then_resume(tmp_path: Path, site_url: str):
    db = tmp_path / "xinwen.db"
    # One page at a time, 0.3 s apart: the kill lands mid-crawl.
    command = [sys.executable, "-m", "xinwen", "crawl", site_url, "--db", str(db),
               "--delay", "0.3", "--concurrency", "1"]  # fmt: skip
    crawler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists() and _count_safely(db, "SELECT count(*) FROM frontier WHERE state = 'done'"):
            break
    os.kill(crawler.pid, signal.SIGKILL)
    crawler.wait(timeout=10)
    done_before = _count(db, "SELECT count(*) FROM frontier WHERE state IN ('done', 'listing')")
    assert 0 < done_before < 7, "the kill should land mid-crawl"

    result = runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _count(db, "SELECT count(*) FROM article") == 4
    assert _count(db, "SELECT count(*) - count(DISTINCT url) FROM article") == 0
    assert _count(db, "SELECT count(*) FROM frontier WHERE state IN ('pending', 'leased')") == 0
    # The first run's crawl row is left 'running': that is how a crash shows.
    assert _count(db, "SELECT count(*) FROM run WHERE status = 'running'") == 1


def _count_safely(db: Path, sql: str) -> int:
    try:
        return _count(db, sql)
    except sqlite3.Error:  # the schema may not exist yet
        return 0


def test_incremental_run_skips_old_articles(tmp_path: Path, site_url: str):
    db = tmp_path / "xinwen.db"
    runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    # Age every page: articles beyond the re-check window, listings past their rest.
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE frontier SET discovered_at = '2000-01-01 00:00:00',"
            " updated_at = '2000-01-01 00:00:00'"
        )
    result = runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("fetched 3, 0 new, 0 updated, 0 unchanged, 3 not article")


def test_a_run_right_after_another_fetches_only_its_start_url(tmp_path: Path, site_url: str):
    db = tmp_path / "xinwen.db"
    runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    result = runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    assert result.output.startswith("fetched 1, 0 new")  # everything else is resting


@pytest.mark.parametrize("kind", ["connect", "dns"])
def test_host_breaker_stops_hammering_a_dead_host(tmp_path: Path, kind: str):
    # Fault matrix rows 1-2 and C2: 10 connect or DNS failures in a row open the host's breaker.
    import asyncio
    import socket

    import httpx

    from xinwen import Archive
    from xinwen.fetch import FetchSettings
    from xinwen.pipeline import BREAKER_OPEN, crawl_async

    hits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(str(request.url))
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if kind == "dns":
            cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            raise httpx.ConnectError("name not resolved", request=request) from cause
        raise httpx.ConnectError("connection refused", request=request)

    starts = [f"http://dead.test/{i}.html" for i in range(BREAKER_OPEN + 5)]
    settings = FetchSettings(delay=0, concurrency=1, max_attempts=1, allow_private=True)
    with Archive(tmp_path / "x.db") as archive:
        stats = asyncio.run(
            crawl_async(starts, archive, settings=settings, transport=httpx.MockTransport(handler))
        )
        states = archive.frontier_counts()
    pages = [h for h in hits if not h.endswith("robots.txt")]
    assert len(pages) == BREAKER_OPEN  # then the host is left alone
    assert stats.failures == {kind: BREAKER_OPEN, "host_breaker": 5}
    # The skipped URLs go back to pending, to be taken up by the next run, not failed for good.
    assert states == {"failed": BREAKER_OPEN, "pending": 5}


def test_unreachable_robots_txt_leaves_urls_for_the_next_run(tmp_path: Path):
    import asyncio

    import httpx

    from xinwen import Archive
    from xinwen.fetch import FetchSettings
    from xinwen.pipeline import crawl_async

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    settings = FetchSettings(delay=0, max_attempts=1, allow_private=True)
    with Archive(tmp_path / "x.db") as archive:
        stats = asyncio.run(
            crawl_async(
                ["http://down.test/a.html"], archive, settings=settings,
                transport=httpx.MockTransport(handler),
            )
        )  # fmt: skip
        states = archive.frontier_counts()
    assert stats.failures["robots_unreachable"] == 1
    assert states == {"pending": 1}  # given back at the end of the run, for the next one
