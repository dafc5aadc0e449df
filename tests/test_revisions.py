"""Revisions: a changed page keeps its previous version, a removed one is marked gone, and
reparse rebuilds articles from the stored captures without the network."""

from __future__ import annotations

import itertools
import shutil
import socket
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinwen import demo
from xinwen.cli import app

runner = CliRunner()
ARTICLE = "yhyq/2024/1107/4533.html"
# Crawls in these tests follow each other within seconds, yet must fetch every page again.
CRAWL = ["crawl", "--delay", "0", "--recheck-after", "0"]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the demo site that a test may edit between crawls."""
    root = tmp_path / "site"
    shutil.copytree(demo.SITE, root)
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _crawl(root: Path, db: Path, port: int = 0) -> str:
    with demo.serve(port, root=root) as base:
        result = runner.invoke(app, [*CRAWL, base, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return base


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_changed_page_keeps_a_revision_and_unchanged_does_not(site: Path, db_path: Path):
    with demo.serve(0, root=site) as base:
        for _ in range(2):  # the second crawl changes nothing
            runner.invoke(app, [*CRAWL, base, "--db", str(db_path)])
        assert _rows(db_path, "SELECT count(*) FROM article_revision") == [(0,)]
        page = site / ARTICLE
        page.write_text(page.read_text("utf-8").replace("國內生產總值", "國民生產總值"), "utf-8")
        result = runner.invoke(app, [*CRAWL, base, "--db", str(db_path)])
        assert "1 updated, 3 unchanged" in result.output
    (revision,) = _rows(db_path, "SELECT body, reason FROM article_revision")
    assert "国内生产总值" in revision[0] and revision[1] == "refetch"
    (body,) = _rows(db_path, f"SELECT body FROM article WHERE url LIKE '%{ARTICLE}'")[0]
    assert "国民生产总值" in body
    result = runner.invoke(app, ["history", base + ARTICLE, "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "version 1:" in result.output and "version 2:" in result.output
    lines = result.output.splitlines()
    assert any(line.startswith("-") and "国内生产总值" in line for line in lines)
    assert any(line.startswith("+") and "国民生产总值" in line for line in lines)


def test_removed_page_keeps_its_article_and_is_marked_gone(site: Path, db_path: Path):
    port = _free_port()  # the same site at the same address both times
    _crawl(site, db_path, port)
    (site / ARTICLE).unlink()
    _crawl(site, db_path, port)
    rows = _rows(db_path, f"SELECT title, gone_at FROM article WHERE url LIKE '%{ARTICLE}'")
    assert len(rows) == 1 and rows[0][0] == "银行贷款逾期增多的原因及应对建议"
    assert rows[0][1] is not None
    others = _rows(db_path, "SELECT count(*) FROM article WHERE gone_at IS NULL")
    assert others == [(3,)]


def test_reparse_rebuilds_from_captures_without_network(site: Path, db_path: Path):
    _crawl(site, db_path)  # the server is gone after this: reparse cannot fetch
    good = _rows(db_path, "SELECT url, body, content_hash FROM article ORDER BY url")
    # Pretend an older parser stored worse bodies.
    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE article SET body = 'old parser output', content_hash = 'x'")
    result = runner.invoke(app, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "reparsed 4, 4 changed, 0 failed"
    assert _rows(db_path, "SELECT url, body, content_hash FROM article ORDER BY url") == good
    reasons = _rows(db_path, "SELECT DISTINCT reason, body FROM article_revision")
    assert reasons == [("reparse", "old parser output")]
    # A second reparse with the same parser changes nothing.
    result = runner.invoke(app, ["reparse", "--db", str(db_path)])
    assert result.output.strip() == "reparsed 4, 0 changed, 0 failed"


def test_reparse_of_a_missing_archive_creates_nothing(tmp_path: Path):
    missing = tmp_path / "nope.db"
    result = runner.invoke(app, ["reparse", "--db", str(missing)])
    assert result.exit_code == 2
    assert str(missing) in result.output and not missing.exists()


def test_robots_txt_disallow_is_recorded_and_never_fetched(site: Path, db_path: Path):
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /xyk/\n", "utf-8")
    base = _crawl(site, db_path)
    fetched = {row[0] for row in _rows(db_path, "SELECT url FROM capture")}
    assert not any("/xyk/" in url for url in fetched)
    skipped = _rows(db_path, "SELECT url FROM fetch WHERE error_kind = 'robots_disallow'")
    assert {row[0] for row in skipped} >= {base + "xyk/"}
    assert _rows(db_path, "SELECT count(*) FROM article") == [(2,)]  # the two /yhyq/ articles


def test_robots_txt_crawl_delay_spaces_the_requests(site: Path, db_path: Path):
    # Fault matrix row 22: a Crawl-delay longer than --delay (0 here) is honoured by the crawl.
    (site / "robots.txt").write_text("User-agent: *\nCrawl-delay: 0.3\n", "utf-8")
    _crawl(site, db_path)
    times = [
        datetime.fromisoformat(str(at))
        for (at,) in _rows(db_path, "SELECT fetched_at FROM fetch ORDER BY fetched_at")
    ]
    assert len(times) == 7
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25, gaps  # request starts 0.3 s apart; responses take milliseconds
