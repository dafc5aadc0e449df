"""Multi-page articles: the crawler fetches the parts and stores one article, pages kept."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser
from typer.testing import CliRunner

from xinwen import demo
from xinwen.cli import app
from xinwen.parse import pages
from xinwen.parse.pages import is_continuation

SITE = Path(__file__).parent / "fixtures" / "multipage"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with demo.serve(0, root=SITE) as base:
        yield base


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, site: str) -> Path:
    path = tmp_path_factory.mktemp("multipage") / "xinwen.db"
    result = CliRunner().invoke(app, ["crawl", site, "--db", str(path), "--delay", "0"])
    assert result.exit_code == 0, result.output
    return path


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_parts_are_stitched_into_one_article(db: Path, site: str):
    rows = _query(db, "SELECT url, body, flags FROM article ORDER BY url")
    assert [r[0] for r in rows] == [
        site + "news/2024/1106/888.html",
        site + "news/2024/1106/889.html",
    ]
    body = rows[0][1]
    first, second, third = (body.index(f"第{n}部分") for n in "一二三")
    assert first < second < third
    assert "另一篇单页" not in body  # 下一篇 is another article, not a part
    assert rows[0][2] == "[]"


def test_page_boundaries_are_kept(db: Path):
    pages = _query(
        db,
        "SELECT s.page, s.text FROM section s JOIN article a ON a.id = s.article_id"
        " WHERE a.url LIKE '%888.html' ORDER BY s.position",
    )
    assert [p for p, _ in pages] == [1, 2, 3]
    assert pages[1][1].startswith("第二部分")


def test_parts_are_logged_and_archived_not_stored_as_articles(db: Path):
    outcomes = dict(_query(db, "SELECT url, outcome FROM fetch"))
    parts = [url for url, outcome in outcomes.items() if outcome == "part"]
    assert sorted(p.rsplit("/", 1)[1] for p in parts) == ["888_2.html", "888_3.html"]
    # Each part's raw bytes are kept, so reparse can rebuild the whole article.
    assert _query(db, "SELECT count(*) FROM capture")[0][0] == 5


@pytest.mark.parametrize(
    ("url", "candidate", "expected"),
    [
        ("https://n.example.cn/a/123.html", "https://n.example.cn/a/123_2.html", True),
        ("https://n.example.cn/a/123_2.html", "https://n.example.cn/a/123_3.html", True),
        ("https://n.example.cn/a/index.htm", "https://n.example.cn/a/index_1.htm", True),
        ("https://n.example.cn/x.php?id=5", "https://n.example.cn/x.php?id=5&page=2", True),
        ("https://n.example.cn/a/123.html", "https://n.example.cn/a/124.html", False),
        ("https://n.example.cn/a/123.html", "https://n.example.cn/b/123_2.html", False),
        ("https://n.example.cn/a/123.html", "https://n.example.cn/a/123.html", False),
        ("https://n.example.cn/x.php?id=5", "https://n.example.cn/x.php?id=6&page=2", False),
    ],
)
def test_continuation_urls(url: str, candidate: str, expected: bool):
    assert is_continuation(url, candidate) is expected


# --- the prefilter before `_stem`: the same answers as stemming every link -----------------------


def _continuations_plain(url: str, candidates: list[str]) -> set[str]:
    own, host = pages._stem(url), pages.urlsplit(url).netloc.lower()
    return {
        c
        for c in candidates
        if host in c.lower() and c.split("#")[0] != url.split("#")[0] and pages._stem(c) == own
    }


def _listing_plain(url: str, links: list[str]) -> list[str]:
    host, own = pages.urlsplit(url).netloc.lower(), url.split("#")[0]
    stem = pages._stem(url, listing=True)
    return [
        link
        for link in links
        if host in link.lower() and link != own and pages._stem(link, listing=True) == stem
    ]


def _random_urls(rnd: random.Random, n: int) -> list[str]:
    hosts = ["n.example.cn", "N.Example.cn", "other.example.com"]
    dirs = ["/a/", "/news/2024/1106/", "/", "/A/", "/list/"]
    names = ["123", "124", "1234", "index", "INDEX", "default", "list", "12", ""]
    suffixes = ["", "_2", "-3", "_p4", "_1000", "_", "-p"]
    exts = [".html", ".htm", ".shtml", ".HTML", ".php", ".aspx", ".jsp", "", ".txt"]
    queries = ["", "?page=2", "?id=5&page=3", "?p=2&x=1", "?x=1", "?PAGE=2"]
    frags = ["", "#top", "#"]
    return [
        f"{rnd.choice(['http', 'https'])}://{rnd.choice(hosts)}{rnd.choice(dirs)}"
        f"{rnd.choice(names)}{rnd.choice(suffixes)}{rnd.choice(exts)}{rnd.choice(queries)}"
        f"{rnd.choice(frags)}"
        for _ in range(n)
    ]


def test_continuations_and_listing_pages_prefilter_changes_nothing() -> None:
    rnd = random.Random(11)
    tree = LexborHTMLParser("<p>no pager</p>")
    for _ in range(300):
        urls = _random_urls(rnd, 60)
        url = urls[0]
        assert pages.continuations(url, urls) == _continuations_plain(url, urls), url
        got = pages.listing_pages(tree, url, ["下一页"], urls)
        plain = [u for u in dict.fromkeys(_listing_plain(url, urls)) if u.startswith("http")]
        assert got == plain, url
