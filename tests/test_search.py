"""Chinese full-text search: short and long queries, both scripts, ranking, snippets, filters,
FTS syntax in queries, re-indexing, deletion, the upgrade of an older archive, and the CLI."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from xinwen import Archive, extract, store
from xinwen.cli import app
from xinwen.errors import ConfigError, LeaseLost
from xinwen.models import Decoded, Page
from xinwen.pipeline import search
from xinwen.store import search as fts

HTML = """<html><head><title>{title}_新闻网</title>
<meta property="article:section" content="{category}"></head><body>
<div class="crumbs"><a href="/">首页</a> &gt; <a href="/c/">{category}</a></div>
<h1>{title}</h1><div class="info"><span>{date} 09:30:00</span></div>
<div class="content">{paragraphs}</div></body></html>"""

# url, title, category, date, paragraphs. The Taiwanese page is written in traditional script
# and stored converted; the others are simplified.
ARTICLES: list[tuple[str, str, str, str, list[str]]] = [
    (
        "https://tw.example.org/n/1.html",
        "銀行貸款逾期處理辦法",
        "銀行逾期",
        "2024-11-06",
        [
            "許多借款人因為收入下降而無法按時還款，貸款逾期處理成為熱門話題。",
            "專家建議先與銀行協商，說明困難，申請延期或分期。",
        ],
    ),
    (
        "https://news.example.com/a/2.html",
        "信用卡分期的几点提醒",
        "信用卡",
        "2024-11-20",
        [
            "信用卡分期手续费并不低，消费者应当量力而行。",
            "一旦出现贷款逾期处理不当，征信记录会受到影响，逾期越久影响越大。",
        ],
    ),
    (
        "https://news.example.com/a/3.html",
        "今年经济形势分析",
        "宏观",
        "2024-12-01",
        [
            "今年经济增长较快，GDP同比增长5.2%，首批覆盖的城市有十个。",
            "贷款，逾期，处理：这些词放在一起，却不是一个短语。",
        ],
    ),
]


def _page(url: str, html: str) -> Page:
    return Page(url, url, 200, {"content-type": "text/html"}, html.encode(), datetime.now(UTC))


def _save(archive: Archive, url: str, title: str, category: str, date: str, paras: list[str]):
    html = HTML.format(
        title=title,
        category=category,
        date=date,
        paragraphs="".join(f"<p>{p}</p>" for p in paras),
    )
    article = extract(html.encode(), url)
    return archive.save_page(_page(url, html), Decoded(html, "utf-8", "header", 0), article)


@pytest.fixture
def archive_path(db_path: Path) -> Path:
    with Archive(db_path) as archive:
        for item in ARTICLES:
            _save(archive, *item)
    return db_path


def _urls(db: Path, query: str, **filters: Any) -> list[str]:
    return [hit.url for hit in search(db, query, **filters)]


def test_the_traditional_page_is_stored_simplified(archive_path: Path):
    with Archive(archive_path) as archive:
        (row,) = archive.query("SELECT title, lang_original FROM article WHERE id = 1")
    assert row == {"title": "银行贷款逾期处理办法", "lang_original": "zh-Hant"}


def test_two_character_query_finds_both_scripts(archive_path: Path):
    assert sorted(_urls(archive_path, "逾期")) == [
        "https://news.example.com/a/2.html",
        "https://news.example.com/a/3.html",
        "https://tw.example.org/n/1.html",
    ]
    assert _urls(archive_path, "协商") == ["https://tw.example.org/n/1.html"]  # 協商 on the page
    assert _urls(archive_path, "征信") == ["https://news.example.com/a/2.html"]
    assert _urls(archive_path, "经济") == ["https://news.example.com/a/3.html"]


def test_six_character_query_matches_the_phrase_only(archive_path: Path):
    # 贷款逾期处理 occurs in articles 1 (traditional source) and 2; article 3 has the same six
    # characters only with punctuation between them, which is not the phrase.
    found = _urls(archive_path, "贷款逾期处理")
    assert sorted(found) == ["https://news.example.com/a/2.html", "https://tw.example.org/n/1.html"]


def test_traditional_query_is_converted(archive_path: Path):
    found = _urls(archive_path, "貸款逾期處理")
    assert sorted(found) == ["https://news.example.com/a/2.html", "https://tw.example.org/n/1.html"]


def test_simplified_query_is_not_converted(archive_path: Path):
    # OpenCC t2s would turn 首批覆盖 into 首批复盖 (see normalize.py), which is in no article.
    assert _urls(archive_path, "首批覆盖") == ["https://news.example.com/a/3.html"]


def test_one_character_query(archive_path: Path):
    assert len(_urls(archive_path, "贷")) == 3
    # A character that only ends a run of Han characters (its last-character token).
    assert _urls(archive_path, "析") == ["https://news.example.com/a/3.html"]


def test_words_and_mixed_queries(archive_path: Path):
    assert _urls(archive_path, "gdp") == ["https://news.example.com/a/3.html"]
    assert _urls(archive_path, "GDP同比") == ["https://news.example.com/a/3.html"]
    # Several terms: all must occur, anywhere.
    assert _urls(archive_path, "逾期 征信") == ["https://news.example.com/a/2.html"]
    assert _urls(archive_path, "征信 GDP") == []


def test_title_and_frequency_rank_first(db_path: Path):
    filler = "这是一段与主题无关的文字，用来让正文有一定的长度。"
    with Archive(db_path) as archive:
        for number in range(3):  # articles without the term, as an archive has
            _save(archive, f"https://r.example.com/other{number}", f"其他新闻{number}", "财经",
                  "2024-01-01", [filler, "天气晴朗。"])  # fmt: skip
        _save(archive, "https://r.example.com/once", "市场观察", "财经", "2024-01-01",
              [filler, "文中只提到一次违约。", filler])  # fmt: skip
        _save(archive, "https://r.example.com/often", "市场观察二", "财经", "2024-01-02",
              [filler, "违约增加，违约率上升，违约处置加快。", filler])  # fmt: skip
        _save(archive, "https://r.example.com/title", "违约处置新规出台", "财经", "2024-01-03",
              [filler, "新规明确了流程。", filler])  # fmt: skip
    hits = search(db_path, "违约")
    assert [h.url.rsplit("/", 1)[1] for h in hits] == ["title", "often", "once"]
    assert hits[0].score > hits[1].score > hits[2].score > 0


def test_snippet_highlights_the_original_text(archive_path: Path):
    (hit,) = search(archive_path, "征信记录")
    assert "【征信记录】" in hit.snippet
    with Archive(archive_path) as archive:
        (row,) = archive.query("SELECT body FROM article WHERE url = :u", {"u": hit.url})
    plain = hit.snippet.replace("【", "").replace("】", "").strip("…")
    assert plain in row["body"].replace("\n", " ")  # the text itself, no bigram soup
    # The traditional page's snippet is its stored, simplified text.
    (hit,) = search(archive_path, "协商")
    assert "与银行【协商】" in hit.snippet


def test_filters(archive_path: Path):
    assert _urls(archive_path, "逾期", site="tw.example.org") == ["https://tw.example.org/n/1.html"]
    assert _urls(archive_path, "逾期", category="信用卡") == ["https://news.example.com/a/2.html"]
    assert sorted(_urls(archive_path, "贷", since="2024-11-20")) == [
        "https://news.example.com/a/2.html",
        "https://news.example.com/a/3.html",
    ]
    # `until` includes the whole day, or month, it names.
    assert _urls(archive_path, "逾期", until="2024-11-06") == ["https://tw.example.org/n/1.html"]
    assert len(_urls(archive_path, "贷", until="2024-11")) == 2
    assert _urls(archive_path, "贷", since="2024-11-07", until="2024-11-30") == [
        "https://news.example.com/a/2.html"
    ]
    assert len(_urls(archive_path, "贷", limit=1)) == 1
    with pytest.raises(ConfigError, match="--since"):
        search(archive_path, "贷", since="last week")


@pytest.mark.parametrize(
    "query",
    ['"', '"逾期', "逾期*", "AND", "逾期 AND", "-逾期", "逾期 OR NOT 经济", "NEAR(逾期 经济)",
     "title:逾期", "'); DROP TABLE article; --", "^逾期", "*", "", "   ", "。，！"],
)  # fmt: skip
def test_fts_syntax_in_queries_is_only_text(archive_path: Path, query: str):
    search(archive_path, query)  # no exception
    with Archive(archive_path) as archive:
        assert archive.query("SELECT count(*) AS n FROM article")[0]["n"] == 3


def test_fts_operators_are_searched_as_words(archive_path: Path):
    assert _urls(archive_path, "逾期 AND") == []  # "and" is a word that no article has
    assert len(_urls(archive_path, "-逾期")) == 3  # the dash is punctuation, not NOT


def test_updated_article_is_reindexed(archive_path: Path):
    url, title, category, date, _ = ARTICLES[2]
    with Archive(archive_path) as archive:
        outcome = _save(archive, url, title, category, date, ["如今房价走势平稳，成交回暖。"])
    assert outcome == "updated"
    assert _urls(archive_path, "经济增长") == []
    assert _urls(archive_path, "成交回暖") == [url]


def test_a_batch_of_writes_indexes_its_articles_before_each_commit(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # A crawl writes in batches; the index is brought up to date once per commit, not per
    # article, and what a batch commits is searchable with nothing left in the journal.
    monkeypatch.setattr(store, "BATCH_WRITES", 2)
    monkeypatch.setattr(store, "BATCH_SECONDS", 3600.0)
    lost = "https://news.example.com/lost.html"
    with Archive(db_path) as archive, archive.batched():
        for item in ARTICLES:
            _save(archive, *item)
        url, title, category, date, _ = ARTICLES[2]
        assert _save(archive, url, title, category, date, ["如今房价走势平稳，成交回暖。"]) == (
            "updated"
        )
        # A write whose lease was lost is rolled back, journal entry included.
        archive._leases[lost] = "a lease another worker has taken over"
        html = HTML.format(title="失去的文章", category="财经", date="2024-11-06", paragraphs="")
        article = extract(
            html.replace("</div></body>", "<p>不该被索引的正文。</p></div></body>"), lost
        )
        with pytest.raises(LeaseLost):
            archive.save_page(
                _page(lost, html), Decoded(html, "utf-8", "header", 0), article, frontier_url=lost
            )
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("SELECT count(*) FROM article_fts_pending").fetchone()[0] == 0
        indexed = connection.execute("SELECT count(*) FROM article_fts").fetchone()[0]
    assert indexed == len(ARTICLES)
    assert _urls(db_path, "成交回暖") == [ARTICLES[2][0]]
    assert _urls(db_path, "经济增长") == [] and _urls(db_path, "不该") == []
    assert len(_urls(db_path, "逾期")) == 2  # the updated article no longer has it


def test_deleted_article_leaves_the_index(archive_path: Path):
    with sqlite3.connect(archive_path) as connection:
        connection.execute("DELETE FROM article WHERE url = 'https://news.example.com/a/2.html'")
    assert _urls(archive_path, "征信") == []
    assert len(_urls(archive_path, "逾期")) == 2
    with sqlite3.connect(archive_path) as connection:
        ids = connection.execute("SELECT rowid FROM article_fts WHERE article_fts MATCH '\"逾期\"'")
        assert [row[0] for row in ids] == [1, 3]  # gone from the index, not only from the results
        assert connection.execute("SELECT count(*) FROM article_fts_pending").fetchone()[0] == 0
        connection.execute("INSERT INTO article_fts (article_fts) VALUES ('integrity-check')")


def test_changes_made_with_plain_sql_are_indexed(archive_path: Path):
    with sqlite3.connect(archive_path) as connection:
        connection.execute("UPDATE article SET title = '改写后的标题' WHERE id = 3")
        connection.execute(
            "INSERT INTO article (url, site, title, lang_original, body, content_hash, encoding,"
            " encoding_source, extracted_by, first_seen_at, last_fetched_at) VALUES"
            " ('https://x.example.com/1', 'x', '手工插入', 'zh-Hans', '手工录入的正文', '',"
            " 'utf-8', 'default', '{}', '2024-01-01', '2024-01-01')"
        )
    assert _urls(archive_path, "改写") == ["https://news.example.com/a/3.html"]
    assert _urls(archive_path, "形势分析") == []  # the old title is forgotten
    assert _urls(archive_path, "手工录入") == ["https://x.example.com/1"]


_RAW_INSERT = (
    "INSERT INTO article (url, site, title, lang_original, body, content_hash, encoding,"
    " encoding_source, extracted_by, first_seen_at, last_fetched_at)"
    " VALUES (?, 'x', ?, 'zh-Hans', ?, '', 'utf-8', 'default', '{}', '2024-01-01', '2024-01-01')"
)


def test_index_follows_random_changes(db_path: Path):
    """Inserts, updates and deletes in any order, synced at random points, leave the index
    exactly as a rebuild would: every word finds the articles that contain it, no others."""
    rng = random.Random(5)
    words = ["经济", "逾期", "贷款", "增长", "银行", "信用", "征信", "利率"]
    Archive(db_path).close()
    with sqlite3.connect(db_path) as connection:
        for step in range(400):
            ids = [row[0] for row in connection.execute("SELECT id FROM article")]
            text = "，".join(rng.sample(words, 3))
            choice = rng.random()
            if choice < 0.4 or not ids:
                connection.execute(_RAW_INSERT, (f"https://x.example.com/{step}", text[:2], text))
            elif choice < 0.6:
                connection.execute(
                    "UPDATE article SET body = ? WHERE id = ?", (text, rng.choice(ids))
                )
            elif choice < 0.7:
                connection.execute(
                    "UPDATE article SET title = ? WHERE id = ?", (text, rng.choice(ids))
                )
            elif choice < 0.75:
                connection.execute("UPDATE article SET site = 'y' WHERE id = ?", (rng.choice(ids),))
            else:
                connection.execute("DELETE FROM article WHERE id = ?", (rng.choice(ids),))
            if rng.random() < 0.05:
                connection.commit()
                search(db_path, "经济")  # applies the journal
        connection.commit()
    search(db_path, "经济")
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute("SELECT id, title, body FROM article").fetchall()
        assert connection.execute("SELECT count(*) FROM article_fts_pending").fetchone()[0] == 0
        for word in words:
            found = connection.execute(
                "SELECT rowid FROM article_fts WHERE article_fts MATCH ?", (f'"{word}"',)
            )
            expected = {i for i, title, body in rows if word in (title or "") or word in body}
            assert {row[0] for row in found} == expected, word
        connection.execute("INSERT INTO article_fts (article_fts) VALUES ('integrity-check')")


def _search_docs() -> str:
    text = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text("utf-8")
    return text.split("\n## Full-text search\n")[1].split("\n## ")[0]


def test_plain_sql_query_from_the_docs(archive_path: Path):
    sql = _search_docs().split("```sql\n")[1].split("```")[0]
    with sqlite3.connect(archive_path) as connection:
        rows = connection.execute(sql).fetchall()
    assert len(rows) == 3 and all("【逾期】" in row[3] for row in rows)
    with sqlite3.connect(archive_path) as connection:  # a longer word, as its pairs
        rows = connection.execute(
            "SELECT a.url FROM article_fts JOIN article a ON a.id = article_fts.rowid"
            " WHERE article_fts MATCH ? ORDER BY bm25(article_fts, 3.0, 1.0)",
            ('"贷款 款逾 逾期"',),
        ).fetchall()
    assert sorted(r[0] for r in rows) == [
        "https://news.example.com/a/2.html",
        "https://tw.example.org/n/1.html",
    ]


def test_search_tables_are_documented(archive_path: Path):
    documented: dict[str, set[str]] = {}
    for block in _search_docs().split("\n### ")[1:]:
        name = re.search(r"table `(\w+)`", block.splitlines()[0])
        if name:
            documented[name.group(1)] = set(re.findall(r"^\| `(\w+)` \|", block, flags=re.M))
    with sqlite3.connect(archive_path) as connection:
        actual = {
            name: {row[1] for row in connection.execute(f"PRAGMA table_info({name})")}
            for name in (fts.TABLE, fts.JOURNAL)
        }
        triggers = {r[0] for r in connection.execute("SELECT name FROM sqlite_master "
                                                     "WHERE type = 'trigger'")}  # fmt: skip
    assert documented == actual
    for trigger in triggers:
        if trigger.startswith(fts.TABLE):
            assert f"`{trigger}`" in _search_docs()


def test_version_4_archive_becomes_searchable(archive_path: Path):
    """An archive from before the index (schema 4) is indexed when it is opened."""
    with sqlite3.connect(archive_path) as connection:
        for kind, name in connection.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view')"
        ).fetchall():
            connection.execute(f"DROP {kind} {name}")
        connection.execute("DROP TABLE article_fts")
        connection.execute("DROP TABLE article_fts_pending")
        connection.execute("DELETE FROM schema_version WHERE version > 4")
    Archive(archive_path).close()  # upgrades
    with sqlite3.connect(archive_path) as connection:
        versions = [r[0] for r in connection.execute("SELECT version FROM schema_version")]
        indexed = connection.execute(
            "SELECT count(*) FROM article_fts WHERE article_fts MATCH '\"逾期\"'"
        ).fetchone()[0]
    assert 5 in versions
    assert indexed == 3  # filled by the migration, before any search
    assert len(_urls(archive_path, "逾期")) == 3


def test_dropped_index_is_rebuilt_by_the_next_search(archive_path: Path):
    with sqlite3.connect(archive_path) as connection:
        connection.execute("DROP TABLE article_fts")
    assert len(_urls(archive_path, "逾期")) == 3


def test_other_engines_refuse_search_and_skip_the_migration():
    mysql: Any = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    fts.migrate(mysql)  # nothing to do, and nothing executed
    with pytest.raises(ConfigError, match="needs PostgreSQL, or SQLite built with FTS5"):
        fts.search(mysql, "逾期")


def test_tsqueries_match_the_fts5_expressions():
    # PostgreSQL's query is the same tokens as FTS5's phrase, side by side.
    assert fts.tsquery("逾期") == "('逾期')"
    assert fts.tsquery("贷") == "('贷':*)"
    assert fts.tsquery("众信普惠逾期") == "('众信' <-> '信普' <-> '普惠' <-> '惠逾' <-> '逾期')"
    assert fts.tsquery("5G网络 年报2024") == "('5g' <-> '网络') & ('年报' <-> '报' <-> '2024')"
    assert fts.tsquery("'a' | !b & :*") == "('a') & ('b')"  # tsquery syntax is only text
    assert fts.tsquery("。！") == ""


def test_match_expressions():
    assert fts.match_expression("逾期") == '"逾期"'
    assert fts.match_expression("贷") == '"贷"*'
    assert fts.match_expression("众信普惠逾期") == '"众信 信普 普惠 惠逾 逾期"'
    assert fts.match_expression("5G网络 年报2024") == '"5G" + "网络" AND "年报" + "报" + "2024"'
    assert fts.match_expression('"AND* -') == '"AND"'
    assert fts.match_expression("。！") == ""


def test_index_text():
    assert fts.index_text("众信普惠，GDP") == "众信 信普 普惠 惠 ,GDP"
    assert fts.index_text("贷") == "贷"
    assert fts.index_text("ＧＤＰ增长") == "GDP 增长 长"  # full-width folded
    assert fts.index_text(None) == ""


def _index_text_spec(value: str | None) -> str:
    """index_text as first written (a string per pair): what every archive's index holds."""
    if not value:
        return ""
    out: list[str] = []
    position = 0
    for match in re.finditer(f"[{fts._HAN}]+", value):
        start, end = match.span()
        if start > position:
            out.append(fts._fold(value[position:start]))
        run = match.group()
        out.append(" ".join(run[i : i + 2] for i in range(len(run) - 1)))
        out.append(run[-1])
        position = end
    if position < len(value):
        out.append(fts._fold(value[position:]))
    return " ".join(part for part in out if part)


def test_index_text_unchanged_from_its_first_form():
    # The index is part of the database format: sync() forgets a row by giving the text it
    # indexed, so the text of any value must never change. Random text over the characters
    # whose handling differs: Han of every block (BMP, extension A and B, the compatibility
    # blocks, 〇), full-width letters NFKC folds, combining marks, CJK punctuation, emoji,
    # spaces and line breaks, a lone surrogate, and long runs.
    pool = (
        "众信普惠逾期贷款经济增长〇丽\u3400\u4dbf\uf900\ufa6d\U00020000\U0002a6d6\U0002f800"
        "ＧＤＰ２０２４ｅ\u0301\u0301，。、“”（）《》：；？！ \u3000\n\tGDPab12_-+#😀\u00e9\ud800"
    )
    rng = random.Random(7)
    values = ["", "贷", "GDP", "，", "\u0301众", "众\u0301", "众" * 500, "ａ" * 3 + "乙"]
    for _ in range(3000):
        values.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 40))))
    pieces = ["央行降准", "，", "GDP增长", "。\n", "〇", "ＡＢ", " "]
    values.append("".join(rng.choice(pieces) for _ in range(3000)))
    for value in values:
        assert fts.index_text(value) == _index_text_spec(value), repr(value)


def test_snippet_window_and_no_match():
    body = "开头一段话。\n" + "无关内容。" * 40 + "关键的逾期数据出现在这里。" + "后文。" * 40
    text = fts.snippet(body, "逾期")
    assert text.startswith("…") and text.endswith("…") and "【逾期】" in text
    assert len(text.replace("【", "").replace("】", "")) <= fts.SNIPPET_WIDTH + 2
    assert fts.snippet("正文没有那个词。", "逾期") == "正文没有那个词。"


runner = CliRunner()


def test_cli_search_table_and_json(archive_path: Path):
    result = runner.invoke(app, ["search", "逾期", "--db", str(archive_path), "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "【逾期】" in result.output and "https://tw.example.org/n/1.html" in result.output
    result = runner.invoke(app, ["search", "逾期", "--db", str(archive_path), "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 3 and "逾期" in result.output  # UTF-8, not \u-escaped
    assert set(hits[0]) == {"url", "title", "published_at", "site", "category", "score", "snippet"}


def test_cli_search_errors(tmp_path: Path, archive_path: Path):
    missing = tmp_path / "none.db"
    result = runner.invoke(app, ["search", "逾期", "--db", str(missing)])
    assert result.exit_code == 2 and not missing.exists()
    result = runner.invoke(app, ["search", "逾期", "--db", str(archive_path), "--until", "soon"])
    assert result.exit_code == 2 and "--until" in result.output
