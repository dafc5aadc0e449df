"""The docs tell the truth: every table, column and command is documented."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlmodel import SQLModel

import xinwen.store  # noqa: F401 (registers the tables)
from xinwen import Archive
from xinwen.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = Path(__file__).resolve().parents[1] / "README.md"


def _documented_columns(section: str = "Tables") -> dict[str, set[str]]:
    """The `### name` blocks of one `## section` of schema.md, and the columns each lists."""
    text = (DOCS / "schema.md").read_text("utf-8")
    text = re.split(rf"^## {section}\n", text, flags=re.M)[1]
    text = re.split(r"^## ", text, flags=re.M)[0]
    tables: dict[str, set[str]] = {}
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        name = re.match(r"`(\w+)`", block)
        if name:
            columns = block.split("\n#### ")[0]  # sub-sections (flag lists) are not columns
            tables[name.group(1)] = set(re.findall(r"^\| `(\w+)` \|", columns, flags=re.M))
    return tables


def test_schema_doc_matches_the_tables():
    actual = {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables}
    assert _documented_columns() == actual


def test_schema_doc_matches_the_views(tmp_path: Path):
    """Every view the migrations create is documented under "Views", with its columns."""
    Archive(tmp_path / "x.db").close()
    with sqlite3.connect(tmp_path / "x.db") as connection:
        found = connection.execute("SELECT name FROM sqlite_master WHERE type = 'view'")
        names = [row[0] for row in found]
        actual = {n: {r[1] for r in connection.execute(f"PRAGMA table_info({n})")} for n in names}
    assert actual  # migration 6 made some
    assert _documented_columns("Views") == actual


def test_every_command_is_documented():
    cli_doc = (DOCS / "cli.md").read_text("utf-8")
    readme = README.read_text("utf-8")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        assert f"## `xinwen {name}" in cli_doc, name
        assert f"`xinwen {name}" in readme, name


def test_every_crawl_option_is_documented():
    cli_doc = (DOCS / "cli.md").read_text("utf-8")
    for option in ("--db", "--max-pages", "--concurrency", "--delay", "--rules", "--quiet"):
        assert f"`{option}" in cli_doc, option


def test_documented_sql_examples_run(tmp_path):
    """Every ```sql block in docs/schema.md runs against a real (empty) archive."""
    import sqlite3

    from xinwen import Archive

    db = tmp_path / "x.db"
    Archive(db).close()
    text = (DOCS / "schema.md").read_text("utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert blocks
    with sqlite3.connect(db) as connection:
        for block in blocks:
            if block.startswith("-- PostgreSQL"):
                continue  # run on PostgreSQL by tests/test_postgres.py
            code = "\n".join(line for line in block.splitlines() if not line.startswith("--"))
            for statement in filter(str.strip, code.split(";")):
                if "MATCH" in statement or ":" in statement:
                    continue  # parameterized search examples run in tests/test_search.py
                connection.execute(statement).fetchall()


def test_json_record_example_has_every_key():
    """The record documented in docs/schema.md has exactly the keys `Article` has."""
    import json

    from xinwen.record import Article, Section

    text = (DOCS / "schema.md").read_text("utf-8")
    example = text.split("## The JSON record", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    record = json.loads(example)
    assert set(record) == set(Article.model_fields)
    assert set(record["sections"][0]) == set(Section.model_fields)
