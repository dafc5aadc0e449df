"""Shared fixtures: the bundled demo site served on 127.0.0.1, its manifest, a database path."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xinwen import demo


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy or a database chosen in the developer's shell must not leak into the tests.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "XINWEN_DB",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def site_url() -> Iterator[str]:
    """Base URL of the demo site, served by a real HTTP server on 127.0.0.1."""
    with demo.serve(0) as base:
        yield base


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """The demo site's expected extraction (src/xinwen/demo/site/manifest.toml)."""
    return tomllib.loads((demo.SITE / "manifest.toml").read_text("utf-8"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "xinwen.db"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared evaluation corpus (XINWEN_CORPUS or ../shared/corpus); skips if absent."""
    configured = os.environ.get("XINWEN_CORPUS")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared/corpus"
    if not (path / "truth").is_dir():
        pytest.skip(f"corpus not found at {path}: set XINWEN_CORPUS to run corpus tests")
    return path
