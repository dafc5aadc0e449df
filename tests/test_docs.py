"""The docs tell the truth: every table, column and command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import SQLModel

import xinwen.store  # noqa: F401 (registers the tables)
from xinwen.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = Path(__file__).resolve().parents[1] / "README.md"


def _documented_columns() -> dict[str, set[str]]:
    text = (DOCS / "schema.md").read_text("utf-8")
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
