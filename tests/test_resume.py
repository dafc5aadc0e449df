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
