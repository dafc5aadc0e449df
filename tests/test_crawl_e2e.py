"""End to end: `xinwen crawl` against the demo site on 127.0.0.1, checked with plain SQL."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xinwen.cli import app

runner = CliRunner()
# A pinyin gloss left behind: a tone-marked vowel inside parentheses.
_GLOSS = re.compile(r"[(（][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]")


def _crawl(site_url: str, db: Path) -> str:
    # --recheck-after 0: crawls here follow each other within seconds, yet must re-read pages.
    args = ["crawl", site_url, "--db", str(db), "--delay", "0", "--recheck-after", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _rows(db: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, site_url: str) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("crawl") / "xinwen.db"
    return db, _crawl(site_url, db)


def _articles(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest["article"])


def test_summary_line_counts_every_page(crawled: tuple[Path, str], manifest: dict[str, Any]):
    _, output = crawled
    pages = len(manifest["article"]) + len(manifest["listing"])
    assert output.strip().splitlines()[-1].startswith(f"fetched {pages}, 4 new,")
    assert "failed 0" in output


def test_every_article_stored_once(crawled: tuple[Path, str], site_url: str, manifest):
    db, _ = crawled
    urls = {row["url"] for row in _rows(db, "SELECT url FROM article")}
    assert urls == {site_url.rstrip("/") + a["path"] for a in _articles(manifest)}


@pytest.mark.parametrize("index", range(4))
def test_article_fields(crawled, site_url: str, manifest, index: int):
    db, _ = crawled
    expected = _articles(manifest)[index]
    (row,) = _rows(
        db, "SELECT * FROM article WHERE url = ?", site_url.rstrip("/") + expected["path"]
    )
    for name in ("title", "category", "published_at", "author", "source"):
        assert row[name] == expected[name], name
    script = {"traditional": "zh-Hant", "simplified": "zh-Hans"}[expected["script"]]
    assert row["lang_original"] == script
    for snippet in expected["with"]:
        assert snippet in row["body"]
    for snippet in expected["without"]:
        assert snippet not in row["body"]
    assert not _GLOSS.search(row["body"]) and not _GLOSS.search(row["title"])


@pytest.mark.parametrize("index", range(4))
def test_headings_in_order(crawled, site_url: str, manifest, index: int):
    db, _ = crawled
    expected = _articles(manifest)[index]
    rows = _rows(
        db,
        "SELECT s.heading, s.level FROM section s JOIN article a ON a.id = s.article_id"
        " WHERE a.url = ? AND s.heading IS NOT NULL ORDER BY s.position",
        site_url.rstrip("/") + expected["path"],
    )
    headings = [r["heading"] for r in rows if r["heading"] not in expected["headings_optional"]]
    assert headings == expected["headings"]
    levels = {r["heading"]: r["level"] for r in rows}
    for heading, level in levels.items():
        if re.match(r"^[一二三四五六七八九十]+、", heading):
            assert level == 1, heading
        elif re.match(r"^\d+\.\d+\.\d+ ", heading):
            assert level == 3, heading
        elif re.match(r"^\d+\.\d+ ", heading):
            assert level == 2, heading


def test_seed_article_matches_the_first_customer(crawled, site_url: str):
    """The issue's own acceptance figures for the seed page (issue 2)."""
    db, _ = crawled
    (row,) = _rows(db, "SELECT * FROM article WHERE title = ?", "众信普惠逾期一年多该如何处理")
    assert row["category"] == "银行逾期"
    assert row["published_at"] == "2024-11-06T19:15:32+08:00"
    headings = [
        r["heading"]
        for r in _rows(
            db,
            "SELECT heading FROM section WHERE article_id = ? AND heading IS NOT NULL"
            " ORDER BY position",
            row["id"],
        )
    ]
    assert headings.index("一、众信普惠概述") < headings.index("1.1 企业背景")
    assert headings.index("1.1 企业背景") < headings.index("2.3.1 借款人信用风险")
    assert "(dǎo)" not in row["body"] and "导语" in row["body"]
    for line in ("特别声明", "内容侵权", "打开APP", "最新文章", "随机看看", "请在app内查看更多"):
        assert line not in row["body"]
    # The body is the sections joined: headings on their own lines.
    assert "\n1.1 企业背景\n" in row["body"]


def test_second_crawl_adds_no_rows(tmp_path: Path, site_url: str):
    db = tmp_path / "again.db"
    _crawl(site_url, db)
    counts = [_rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("article", "section")]
    output = _crawl(site_url, db)
    assert "0 new, 0 updated, 4 unchanged" in output
    assert [_rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("article", "section")] == counts
    # Raw payloads are stored once per digest, however often they are fetched.
    assert _rows(db, "SELECT count(*) FROM payload")[0][0] == 7
    # Articles are re-checked with conditional GETs: an unchanged one costs a 304 and stores
    # no capture; the three listings are read again in full.
    assert _rows(db, "SELECT count(*) FROM capture")[0][0] == 7 + 3
    not_modified = _rows(db, "SELECT count(*) FROM fetch WHERE http_status = 304")[0][0]
    assert not_modified == 4


def test_database_is_wal_and_raw_bytes_round_trip(crawled, site_url: str):
    db, _ = crawled
    assert _rows(db, "PRAGMA journal_mode")[0][0] == "wal"
    from xinwen import Archive, demo

    with Archive(db) as archive:
        (capture,) = archive.query(
            "SELECT payload_sha256, encoding, encoding_source FROM capture WHERE url = :u",
            {"u": site_url + "xyk/2024/1104/4470.html"},
        )
        raw = archive.payload(capture["payload_sha256"])
    assert raw == (demo.SITE / "xyk/2024/1104/4470.html").read_bytes()
    assert (capture["encoding"], capture["encoding_source"]) == ("gb18030", "meta")


def test_run_is_recorded_and_json_summary(tmp_path: Path, site_url: str):
    import json

    db = tmp_path / "runs.db"
    result = runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["new"] == 4 and summary["failed"] == 0 and summary["fetched"] == 7
    (run,) = _rows(db, "SELECT * FROM run")
    assert run["id"] == summary["run_id"] and run["status"] == "finished"
    assert (run["fetched"], run["new"], run["not_article"]) == (7, 4, 3)
    assert json.loads(run["start_urls"]) == [site_url]
    tagged = _rows(db, "SELECT count(*) FROM fetch WHERE run_id = ? AND attempts = 1", run["id"])
    assert tagged[0][0] == 7


def test_start_url_redirect_to_another_host_is_followed(tmp_path: Path):
    """example.com -> www.example.com: the site's links are on the final host."""
    import asyncio

    import httpx

    from xinwen import Archive
    from xinwen.fetch import FetchSettings
    from xinwen.pipeline import crawl_async

    article = (
        "<html><head><title>央行降准_新闻网</title></head><body><h1>央行降准</h1>"
        "<div class=info>发布时间：2024-11-06 10:00</div><div class=content><p>"
        + "中国人民银行决定下调金融机构存款准备金率，释放长期资金约一万亿元。" * 5
        + "</p></div></body></html>"
    )
    pages = {
        "http://news.test/": (301, {"Location": "http://www.news.test/"}, ""),
        "http://www.news.test/": (200, {}, '<a href="/a/1.html">央行降准</a>'),
        "http://www.news.test/a/1.html": (200, {}, article),
        "http://www.news.test/robots.txt": (404, {}, ""),
        "http://news.test/robots.txt": (404, {}, ""),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers, body = pages.get(str(request.url), (404, {}, ""))
        return httpx.Response(
            status, headers={"Content-Type": "text/html; charset=utf-8", **headers},
            content=body.encode(),
        )  # fmt: skip

    settings = FetchSettings(delay=0, allow_private=True)  # no DNS: the transport is a mock
    with Archive(tmp_path / "x.db") as archive:
        stats = asyncio.run(
            crawl_async(
                ["http://news.test/"], archive, settings=settings,
                transport=httpx.MockTransport(handler),
            )
        )  # fmt: skip
        titles = [row["title"] for row in archive.query("SELECT title FROM article")]
    assert stats.outcomes["new"] == 1
    assert titles == ["央行降准"]
