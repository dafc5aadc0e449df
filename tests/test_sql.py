"""`xinwen sql`: read-only even when the SQL asks to write, attach or change settings (row 43)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinwen.cli import app

runner = CliRunner()
JOIN = (
    "SELECT a.title, count(s.id) AS sections FROM article AS a"
    " JOIN section AS s ON s.article_id = a.id GROUP BY a.id ORDER BY a.id"
)


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        found = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [row[0] for row in found]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _sql(db: Path | str, query: str, *options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["sql", query, "--db", str(db), *options])
    return result.exit_code, result.output


def test_attach_is_refused_and_creates_no_file(small_archive: Path, tmp_path: Path):
    evil = tmp_path / "evil.db"
    code, output = _sql(small_archive, f"ATTACH DATABASE '{evil}' AS e")
    assert code == 2 and "ATTACH" in output and output.count("\n") == 1
    assert not evil.exists()


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM article",
        "UPDATE article SET title = 'x'",
        "INSERT INTO fetch (url, fetched_at, outcome) VALUES ('x', '2024-01-01', 'new')",
        "DROP TABLE section",
        "CREATE TABLE t (x)",
        "ALTER TABLE article ADD COLUMN x",
        "PRAGMA writable_schema=1",
        "PRAGMA journal_mode=DELETE",
        "VACUUM INTO 'copy.db'",
        "SELECT 1; DELETE FROM article",
        "SELECT load_extension('x')",
    ],
)
def test_writes_and_settings_are_refused(small_archive: Path, query: str):
    before = _counts(small_archive)
    code, output = _sql(small_archive, query)
    assert code == 2, output
    assert output.startswith("xinwen: error:") and "Traceback" not in output
    assert _counts(small_archive) == before


def test_a_join_in_every_format(small_archive: Path):
    code, table = _sql(small_archive, JOIN)
    assert code == 0, table
    lines = table.splitlines()
    assert lines[0].split() == ["title", "sections"] and len(lines) == 2 + 3
    assert "央行宣布降准" in lines[2]

    code, output = _sql(small_archive, JOIN, "--format", "json")
    assert code == 0, output
    rows = json.loads(output)
    assert rows[0]["title"] == "央行宣布降准" and rows[0]["sections"] >= 1 and len(rows) == 3

    code, output = _sql(small_archive, JOIN, "-f", "csv")
    assert code == 0, output
    assert list(csv.reader(io.StringIO(output)))[:2] == [
        ["title", "sections"],
        ["央行宣布降准", str(rows[0]["sections"])],
    ]


def test_query_is_another_name_and_read_only_pragmas_work(small_archive: Path):
    result = runner.invoke(app, ["query", "PRAGMA table_info(article)", "--db", str(small_archive)])
    assert result.exit_code == 0, result.output
    assert " url " in result.output
    code, output = _sql(small_archive, "SELECT count(*) AS n FROM json_each('[1, 2, 3]')")
    assert code == 0 and output.splitlines()[-1].strip() == "3"


def test_missing_database_is_named_and_not_created(tmp_path: Path):
    missing = tmp_path / "missing.db"
    code, output = _sql(missing, "SELECT 1")
    assert code == 2 and str(missing) in output and output.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_other_engines_are_a_clear_error():
    code, output = _sql("mysql://u:secret@localhost/x", "SELECT 1")
    assert code == 2 and "SQLite and PostgreSQL" in output and "secret" not in output


def test_an_unreachable_postgres_is_a_clear_error():
    code, output = _sql("postgresql+psycopg://u:secret@127.0.0.1:1/x", "SELECT 1")
    assert code == 1 and "Connection refused" in output and "secret" not in output
    assert output.count("\n") == 1  # one line, no traceback


def test_bad_sql_is_a_usage_error(small_archive: Path):
    code, output = _sql(small_archive, "SELEC title FROM article")
    assert code == 2 and "syntax error" in output


def test_terminal_control_characters_are_escaped(small_archive: Path):
    title = "\x1b[31m新闻\x1b]8;;file:///etc/passwd\x07\u202e"
    query = f"SELECT '{title}' AS title"
    code, table = _sql(small_archive, query)
    assert code == 0 and "\x1b" not in table and "\u202e" not in table
    assert "\\x1b[31m新闻" in table and "\\u202e" in table
    code, output = _sql(small_archive, query, "-f", "json")
    assert code == 0 and "\x1b" not in output and "\u202e" not in output
    assert json.loads(output)[0]["title"] == title
