"""The one-way data flow, checked on the imports: each third-party boundary has one owner."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "xinwen"
# Third-party package -> the only modules (paths under src/xinwen) allowed to import it.
OWNERS = {
    "httpx": {"fetch.py"},
    "httpcore": {"fetch.py"},
    "sqlalchemy": {
        "store/__init__.py",
        "store/tables.py",
        "store/engine.py",
        "store/migrations.py",
        "store/search.py",
        "store/views.py",
        "store/frontier.py",
        "store/copy.py",
        "store/verify.py",
    },
    "sqlmodel": {"store/__init__.py", "store/tables.py", "store/migrations.py", "store/export.py"},
    "typer": {"cli.py"},
    "warcio": {"export.py"},
    "rich": {"cli.py"},
}
# Stages never import each other: only pipeline (and the CLI above it) chains them.
STAGES = {"discover", "fetch", "parse", "normalize", "store"}
# Modules of a stage that are not in its module or package: feeds.py is discovery too.
STAGE_OF = {"feeds": "discover"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level
            found.add(prefix + (node.module or ""))
            if node.level and not node.module:
                found.update(prefix + alias.name for alias in node.names)
    return found


FILES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_third_party_boundaries(path: Path):
    name = str(path.relative_to(SRC))
    for module in _imports(path):
        package = module.split(".")[0]
        if package in OWNERS:
            assert name in OWNERS[package], f"{name} imports {module}"


def _stage_of(name: str) -> str | None:
    head = name.split("/")[0].removesuffix(".py")
    head = STAGE_OF.get(head, head)
    return head if head in STAGES else None


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_stages_do_not_import_each_other(path: Path):
    name = str(path.relative_to(SRC))
    own = _stage_of(name)
    if own is None:
        return
    depth = name.count("/")
    for module in _imports(path):
        if not module.startswith("."):
            continue
        # Resolve the relative import to a top-level name under xinwen.
        level = len(module) - len(module.lstrip("."))
        target = module.lstrip(".").split(".")[0]
        top = STAGE_OF.get(target, target) if level > depth else own
        if top in STAGES:
            assert top == own, f"{name} imports the {top} stage"
