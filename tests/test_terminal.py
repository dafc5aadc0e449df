"""Control characters, BiDi overrides and NUL in page text (fault matrix row 35).

A page's title carries NUL, ANSI escapes, an OSC 8 hyperlink to file:///etc/passwd, BEL and
U+202E (right-to-left override). What is stored loses NUL and the C0 controls (normalize's
choke point; PostgreSQL refuses NUL) and keeps the rest as the site wrote it; every command
that prints stored text shows those characters escaped, never raw, in text and in JSON.
`xinwen sql` has its own test in test_sql.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinwen import Archive, extract
from xinwen.cli import app
from xinwen.models import Decoded, Page

runner = CliRunner()
URL = "https://news.example.com/a/1.html"
TITLE = "\x00\x1b[31m新闻\x1b]8;;file:///etc/passwd\x07\u202e快讯"
BODY = "中国人民银行决定下调金融机构存款准备金率，释放长期流动性\u202e。" * 6
HTML = (
    f"<html><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
    f"<p class=time>2024-11-06 10:00</p><div class=content><p>{BODY}</p></div></body></html>"
)
RAW = ("\x00", "\x1b", "\x07", "\u202e")  # never printed as they are


@pytest.fixture
def hostile_archive(tmp_path: Path) -> Path:
    db = tmp_path / "x.db"
    with Archive(db) as archive:
        for version in (HTML, HTML.replace("释放", "释放了")):  # two versions: a diff to show
            page = Page(URL, URL, 200, {}, version.encode(), datetime.now(UTC))
            decoded = Decoded(version, "utf-8", "header", 0)
            archive.save_page(page, decoded, extract(version.encode(), url=URL))
    return db


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_stored_text_loses_nul_and_c0_controls_only(hostile_archive: Path):
    with Archive(hostile_archive) as archive:
        title = archive.stored_title(URL)
    assert title == "[31m新闻]8;;file:///etc/passwd\u202e快讯"


@pytest.mark.parametrize(
    "command",
    [["search", "新闻"], ["search", "准备金", "--json"], ["history", URL]],
    ids=["search", "search-json", "history"],
)
def test_commands_print_stored_text_escaped(hostile_archive: Path, command: list[str]):
    out = _run(*command, "--db", str(hostile_archive))
    assert "快讯" in out or "准备金" in out  # the article was printed
    assert not [c for c in RAW if c in out], repr(out)
    assert "\\u202e" in out
    if "--json" in command:  # and JSON still reads back as the stored text
        [hit] = json.loads(out)
        assert "\u202e" in hit["title"]


def test_parse_json_escapes_them_too(tmp_path: Path):
    page = tmp_path / "a.html"
    page.write_text(HTML, "utf-8")
    out = _run("parse", str(page), "--url", URL)
    assert not [c for c in RAW if c in out] and "新闻" in out  # Chinese stays unescaped
    assert json.loads(out)["title"] == "[31m新闻]8;;file:///etc/passwd\u202e快讯"
