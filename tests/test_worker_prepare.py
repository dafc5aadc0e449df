"""Articles normalized and given their index text in the parse worker (workerproc.prepare):
the archive holds exactly what it holds when the crawl's process does it all itself."""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from xinwen import pipeline, workerproc
from xinwen.fetch import FetchSettings
from xinwen.models import Page
from xinwen.record import Article
from xinwen.store import Archive
from xinwen.workers import ParsePool

FAST = FetchSettings(delay=0.0, concurrency=4, per_host=4)
FIXTURES = Path(__file__).parent / "fixtures"


def _contents(db: Path) -> dict[str, Any]:
    """Every stored field but times and ids, keyed by URL; the full-text index term by term."""
    with sqlite3.connect(db) as con:
        con.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, article_fts, instance)")
        skip = {"id", "first_seen_at", "last_fetched_at", "capture_id"}
        columns = [c[1] for c in con.execute("PRAGMA table_info(article)") if c[1] not in skip]
        articles = {
            row[0]: row
            for row in con.execute(f"SELECT url, {', '.join(columns)} FROM article").fetchall()
        }
        sections = sorted(
            con.execute(
                "SELECT a.url, s.position, s.level, s.heading, s.text, s.page "
                "FROM section s JOIN article a ON a.id = s.article_id"
            ).fetchall()
        )
        index = sorted(
            con.execute(
                "SELECT a.url, v.term, v.col, v.offset FROM temp.vocab v "
                "JOIN article a ON a.id = v.doc"
            ).fetchall()
        )
        pending = con.execute("SELECT count(*) FROM article_fts_pending").fetchone()[0]
    return {"articles": articles, "sections": sections, "index": index, "pending": pending}


def test_a_crawl_stores_the_same_with_the_worker_preparing_articles(
    tmp_path: Path, site_url: str, monkeypatch: pytest.MonkeyPatch
):
    given: list[tuple[str, str] | None] = []
    save_page = Archive.save_page

    def spy(self: Archive, *args: Any, **kwargs: Any) -> str:
        if args[2] is not None:  # an article
            given.append(kwargs.get("index"))
        return save_page(self, *args, **kwargs)

    monkeypatch.setattr(Archive, "save_page", spy)
    prepared = pipeline.crawl([site_url], tmp_path / "worker.db", settings=FAST)
    assert given and all(index is not None for index in given)  # the worker made them

    given.clear()
    parse_prepared = ParsePool.parse_prepared

    async def in_the_crawl(self: ParsePool, *args: Any, **kwargs: Any) -> Any:
        return await parse_prepared(self, *args, **{**kwargs, "prepare": False})

    monkeypatch.setattr(ParsePool, "parse_prepared", in_the_crawl)
    itself = pipeline.crawl([site_url], tmp_path / "itself.db", settings=FAST)
    assert given and all(index is None for index in given)  # the crawl's process made them

    assert prepared.counts() == itself.counts()
    one, other = _contents(tmp_path / "worker.db"), _contents(tmp_path / "itself.db")
    assert one["articles"] and one["index"] and one["pending"] == 0
    assert one == other


def _parsed(site: Path, name: str) -> tuple[Page, Any, Any, Any]:
    data = (site / name).read_bytes()
    url = f"http://news.example.com/{name}"
    page = Page(url, url, 200, {"content-type": "text/html"}, data, datetime.now(UTC))
    rule, decoded, extracted = workerproc.parse_page(data, url, [], "text/html")
    return page, rule, decoded, extracted


def test_a_prepared_article_under_its_canonical_url_is_the_one_normalized_there():
    site = Path(pipeline.__file__).parent / "demo" / "site"
    page, rule, decoded, extracted = _parsed(site, "yhyq/2024/1107/4533.html")
    prepared = workerproc.prepare(extracted, decoded, page.final_url, rule)
    assert prepared is not None
    for canonical in (None, "http://www.example.org/a/1.html"):
        article, index = pipeline._article(extracted, decoded, page, canonical, rule, prepared, [])
        expected, none = pipeline._article(extracted, decoded, page, canonical, rule, None, [])
        assert article == expected and none is None
        assert index == (workerproc.index_text(article.title), workerproc.index_text(article.body))
    # Parts joined after the worker saw the page: normalized in the crawl's process instead.
    article, index = pipeline._article(
        extracted, decoded, page, None, rule, prepared, [(page, decoded)]
    )
    assert index is None


def test_a_page_that_is_no_article_is_not_prepared():
    site = Path(pipeline.__file__).parent / "demo" / "site"
    page, rule, decoded, extracted = _parsed(site, "index.html")
    assert not extracted.is_article
    assert workerproc.prepare(extracted, decoded, page.final_url, rule) is None


# A parse worker's path through a page, as `workers.py` starts one (`python -c "from
# xinwen.workerproc import ..."`) and `workerproc._serve` runs it for a crawl without site rules.
_WORKER = """
import pickle, sys
from pathlib import Path
from xinwen.workerproc import parse_page, prepare
data, url = Path(sys.argv[1]).read_bytes(), sys.argv[2]
rule, decoded, extracted = parse_page(data, url, (), "text/html")
prepared = prepare(extracted, decoded, url, rule)
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "pydantic")
sys.stdout.buffer.write(pickle.dumps((prepared, loaded)))
"""


def test_a_parse_worker_prepares_an_article_without_loading_pydantic():
    """pydantic and the record's models were a third of a worker's memory (15 of 40 MB): a
    worker hands the record's fields over as plain data, the crawl's process validates them."""
    page = FIXTURES / "multipage" / "news" / "2024" / "1106" / "889.html"
    url = "http://news.example.com/news/2024/1106/889.html"
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(page), url], capture_output=True, check=True
    )
    prepared, loaded = pickle.loads(done.stdout)
    assert loaded == []
    fields, title_text, body_text = prepared
    article = Article.model_validate(fields)
    expected = pipeline.extract(page.read_bytes(), url, content_type="text/html")
    assert article == expected and article.title and article.sections
    assert fields == expected.model_dump()  # the record's own shape, sections as dicts
    assert (title_text, body_text) == (
        workerproc.index_text(expected.title),
        workerproc.index_text(expected.body),
    )


def test_a_prepared_answer_leaves_the_blocks_behind_and_says_whether_it_is_a_block_page():
    # What the crawl needs of the body comes made: the record, and the block-page check, so
    # that the blocks stay in the worker; a multi-page article's first page keeps them (its
    # parts join them in the crawl's process), as does an answer without `prepare`.
    multipage = FIXTURES / "multipage" / "news" / "2024" / "1106"
    demo = Path(pipeline.__file__).parent / "demo" / "site" / "yhyq" / "2024" / "1107" / "4533.html"
    blocked = (
        "<html><head><title>安全验证</title></head>"
        "<body><p>请完成安全验证后继续访问</p></body></html>"
    )
    pages = {
        "article": (demo.read_bytes(), "http://news.example.com/a/1.html"),
        "first_part": (
            (multipage / "888.html").read_bytes(),
            "http://news.example.com/news/2024/1106/888.html",
        ),
        "block": (blocked.encode(), "http://news.example.com/a/3.html"),
    }

    async def run() -> dict[str, Any]:
        async with ParsePool(size=1) as pool:
            got = {}
            for name, (data, url) in pages.items():
                got[name] = await pool.parse_prepared(data, url, "text/html; charset=utf-8")
            data, url = pages["article"]
            got["unprepared"] = await pool.parse_prepared(data, url, "text/html", prepare=False)
            return got

    got = asyncio.run(run())
    _, _, extracted, prepared, sign = got["article"]
    assert prepared is not None and extracted.blocks == [] and sign == ""
    local = workerproc.parse_page(*pages["article"], [], "text/html; charset=utf-8")[2]
    assert prepared[0]["body"] and local.blocks  # the record was made from them
    _, _, extracted, prepared, sign = got["first_part"]
    assert extracted.next_page and prepared is not None and extracted.blocks and sign == ""
    assert got["block"][4] == "安全验证"
    _, _, extracted, prepared, sign = got["unprepared"]
    assert prepared is None and sign is None and extracted.blocks == local.blocks
