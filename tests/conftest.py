"""Shared fixtures: the bundled demo site served on 127.0.0.1, its manifest, a database path."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinwen import Archive, demo, extract
from xinwen.models import Decoded, Page


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


# A small archive for the export, sql and stats tests: two sites, a repeated payload, a
# redirect, a listing page with wire headers, and failures (one older than a day).
ARTICLE_HTML = (
    "<html><head><title>{t}_网</title></head><body><h1>{t}</h1>"
    "<p class=time>2024-11-06 10:00</p><div class=content><p>{p}</p></div></body></html>"
)
_LONG_TEXT = "中国人民银行决定下调金融机构存款准备金率，释放长期流动性，支持实体经济发展。" * 6
SMALL_ARTICLES = [  # url, title, body paragraph, HTTP headers
    ("https://news.example.com/a/1.html", "央行宣布降准", _LONG_TEXT, {}),
    ("https://news.example.com/a/2.html", "逾期短讯", "信用卡逾期的简短提示。", {}),
    ("https://tw.example.org/n/3.html", "經濟日報快訊", _LONG_TEXT, {"server": "nginx"}),
]


def _small_page(url: str, body: bytes, headers: dict[str, str], final_url: str = "") -> Page:
    headers = {"content-type": "text/html; charset=utf-8", **headers}
    return Page(url, final_url or url, 200, headers, body, datetime.now(UTC), elapsed_ms=5)


@pytest.fixture
def small_pages() -> list[tuple[str, str]]:
    """(url, html) of the articles in `small_archive`, in the order they were stored."""
    return [(url, ARTICLE_HTML.format(t=title, p=text)) for url, title, text, _ in SMALL_ARTICLES]


@pytest.fixture
def small_archive(db_path: Path, small_pages: list[tuple[str, str]]) -> Path:
    """An archive file holding SMALL_ARTICLES and some non-article traffic (see above)."""
    with Archive(db_path) as archive:
        stored = list(zip(small_pages, SMALL_ARTICLES, strict=True))
        # The first article twice, unchanged: a second capture of the same payload.
        for (url, html), (*_, headers) in [*stored, stored[0]]:
            page = _small_page(url, html.encode(), headers)
            archive.save_page(page, Decoded(html, "utf-8", "header", 0), extract(html, url))
        # A listing reached through a redirect, whose wire headers no longer fit the bytes.
        listing = "<html><body><a href='/a/1.html'>央行宣布降准</a></body></html>".encode()
        wire = {"content-encoding": "gzip", "transfer-encoding": "chunked", "content-length": "9"}
        page = _small_page("http://news.example.com/", listing, wire, "https://news.example.com/")
        archive.save_page(page, None, None)
        archive.save_failure("https://news.example.com/a/9.html", kind="timeout", message="slow")
        archive.save_failure(
            "https://tw.example.org/gone.html",
            kind="http_status",
            message="HTTP 404",
            http_status=404,
            at=datetime.now(UTC) - timedelta(days=2),
        )
    return db_path


# --- PostgreSQL ------------------------------------------------------------------------------

PG_ENV = "XINWEN_TEST_PG"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a PostgreSQL database whose role may create databases (XINWEN_TEST_PG;
    .ci/run starts the machine's cluster and sets it); skips when none is reachable."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL: set {PG_ENV} (.ci/run starts the cluster and sets it)")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is not reachable: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"xinwen_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
