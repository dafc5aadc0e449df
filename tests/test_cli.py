"""The command line: help everywhere, exit codes, JSON output, the demo."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from xinwen import demo
from xinwen.cli import app

runner = CliRunner()
SEED_PAGE = demo.SITE / "yhyq/2024/1106/4521.html"


def _commands() -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]


def test_every_command_has_help():
    commands = _commands()
    assert {"crawl", "parse", "demo"} <= set(commands)
    for command in app.registered_commands:
        assert command.callback is not None and (command.callback.__doc__ or "").strip()
    for name in commands:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Usage:" in result.output


def test_version_says_which_tree_walk_runs():
    from xinwen.parse import _tree

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("xinwen ")
    assert ("tree walk in C" in result.output) == _tree.accelerated


def test_parse_prints_utf8_json():
    result = runner.invoke(app, ["parse", str(SEED_PAGE), "--url", "http://127.0.0.1/a.html"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["title"] == "众信普惠逾期一年多该如何处理"
    assert "众信普惠" in result.output  # not \u-escaped
    assert set(record) >= {
        "url", "site", "title", "category", "published_at", "author", "source",
        "lang_original", "sections", "body",
    }  # fmt: skip
    assert record["sections"][0].keys() == {"heading", "level", "text", "page"}


def test_parse_reads_stdin():
    result = runner.invoke(app, ["parse", "-"], input=SEED_PAGE.read_bytes())
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["published_at"] == "2024-11-06T19:15:32+08:00"


def test_parse_missing_file_is_a_usage_error(tmp_path: Path):
    missing = tmp_path / "nope.html"
    result = runner.invoke(app, ["parse", str(missing)])
    assert result.exit_code == 2
    assert str(missing) in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("url", ["ftp://example.com/", "not a url", "file:///etc/passwd"])
def test_crawl_rejects_bad_start_urls(url: str, db_path: Path):
    result = runner.invoke(app, ["crawl", url, "--db", str(db_path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and url in result.output
    assert not db_path.exists()  # a usage error touches nothing


def test_bad_rule_file_is_a_usage_error(tmp_path: Path, db_path: Path):
    rule = tmp_path / "bad.toml"
    rule.write_text('id = "x"\nname = "x"\nhosts = ["example.com"]\npolitness = 1\n')
    result = runner.invoke(app, ["crawl", "http://127.0.0.1:9/", "--db", str(db_path),
                                 "--rules", str(rule)])  # fmt: skip
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "politness" in result.output


def test_db_from_environment(site_url: str, db_path: Path):
    result = runner.invoke(
        app,
        ["crawl", site_url, "--delay", "0", "--max-pages", "2"],
        env={"XINWEN_DB": str(db_path)},
    )
    assert result.exit_code == 0, result.output
    assert db_path.exists()


def test_failures_are_rows_not_crashes(site_url: str, db_path: Path):
    missing = site_url + "no/such/page.html"
    result = runner.invoke(app, ["crawl", missing, site_url, "--db", str(db_path), "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert "failed 1 (http_status 1)" in result.output
    with sqlite3.connect(db_path) as connection:
        row = connection.execute(
            "SELECT outcome, http_status, error_kind, error_message FROM fetch WHERE url = ?",
            (missing,),
        ).fetchone()
        articles = connection.execute("SELECT count(*) FROM article").fetchone()[0]
    assert row[:3] == ("failed", 404, "http_status") and missing in row[3]
    assert articles == 4


def test_demo_crawls_and_shows_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "众信普惠逾期一年多该如何处理" in result.output
    with sqlite3.connect(tmp_path / "xinwen.db") as connection:
        assert connection.execute("SELECT count(*) FROM article").fetchone()[0] == 4


def test_store_errors_exit_1(tmp_path: Path, site_url: str):
    # A directory where the database file should be: SQLite cannot open it.
    result = runner.invoke(app, ["crawl", site_url, "--db", str(tmp_path)])
    assert result.exit_code == 1
    assert "database error" in result.output


def test_library_never_exits():
    # typer.Exit must only be raised from the CLI layer.
    src = Path(__file__).resolve().parents[1] / "src/xinwen"
    offenders = [
        p.name
        for p in src.rglob("*.py")
        if p.name != "cli.py" and ("sys.exit" in p.read_text() or "typer" in p.read_text())
    ]
    assert offenders == []
    assert typer.Exit  # the CLI's way out


def test_parse_explain_shows_candidates_and_winners():
    result = runner.invoke(
        app, ["parse", str(SEED_PAGE), "--url", "http://127.0.0.1/a.html", "--explain"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "title: '众信普惠逾期一年多该如何处理'  <- generic:h1"
    assert any(line.startswith("published_at: '2024-11-06T19:15:32+08:00'") for line in lines)
    # The losing dates are listed with their scores and reasons.
    assert any("'2024-11-05'" in line and "just after the body" in line for line in lines)
    assert any("div.art-content#article-content [" in line for line in lines)
