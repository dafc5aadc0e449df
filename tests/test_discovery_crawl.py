"""Discovery beyond links, end to end over real HTTP on 127.0.0.1: robots.txt sitemaps, a sitemap
index with a gzip sitemap, RSS, Atom, listing pagination and a sites file, through `xinwen crawl`
into SQLite; then the hostile XML of fault-matrix rows 31 and 32, with the server's hit counts.

The site is served by a threaded http.server in this module; every route is a fixed body, and
the server counts the hits per path so the tests can assert what was (never) requested.
"""

from __future__ import annotations

import gzip
import sqlite3
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xinwen import feeds
from xinwen.cli import app

runner = CliRunner()

Route = tuple[str, bytes]  # (Content-Type, body)


def _article(n: int) -> bytes:
    text = f"<p>新华社北京电，记者报道，国务院今天召开常务会议，研究部署第{n}项经济工作。</p>" * 8
    return (
        f"<html><head><meta charset='utf-8'><title>新闻{n}_测试网</title></head><body>"
        f"<h1>国务院部署第{n}项经济工作</h1><p class=time>2024-11-06 10:00</p>"
        f"<div class=content>{text}</div></body></html>"
    ).encode()


def _listing(links: list[str], pager: str = "") -> bytes:
    items = "".join(f"<li><a href='{href}'>标题{i}</a></li>" for i, href in enumerate(links))
    return f"<html><body><ul>{items}</ul>{pager}</body></html>".encode()


def _urlset(base: str, paths: list[str], extra: str = "") -> bytes:
    urls = "".join(f"<url><loc>{base}{p}</loc>{extra}</url>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def _index(base: str, paths: list[str]) -> bytes:
    maps = "".join(f"<sitemap><loc>{base}{p}</loc></sitemap>" for p in paths)
    return f"<sitemapindex>{maps}</sitemapindex>".encode()


HTML = "text/html; charset=utf-8"
XML = "application/xml"


def _routes(base: str, secret_file: Path, robots: bool) -> dict[str, Route]:
    news = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{base}/a/1.html</loc><news:news><news:publication_date>"
        "2024-11-06T10:00:00+08:00</news:publication_date><news:title>一</news:title>"
        f"</news:news></url><url><loc>{base}/a/2.html</loc></url></urlset>"
    ).encode()
    rss = (
        '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>新闻</title>'
        f"<item><title>四&nbsp;镕</title><link>{base}/a/4.html</link></item></channel></rss>"
    ).encode("gb18030")
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        '<entry><title>五</title><link href="/a/5.html"/></entry></feed>'
    ).encode()
    routes: dict[str, Route] = {
        "/robots.txt": (
            "text/plain",
            f"User-agent: *\nSitemap: {base}/sitemap_index.xml\n".encode(),
        ),
        "/sitemap_index.xml": (XML, _index(base, ["/sitemaps/news.xml.gz", "/sitemaps/old.xml"])),
        # A .gz file served as such (no Content-Encoding): the gzip is the parser's to undo.
        "/sitemaps/news.xml.gz": ("application/x-gzip", gzip.compress(news)),
        "/sitemaps/old.xml": (XML, _urlset(base, ["/a/3.html"], "<lastmod>2024-01-01</lastmod>")),
        "/rss.xml": ("application/rss+xml", rss),
        "/atom.xml": ("text/xml", atom),
        "/list/": (
            HTML,
            _listing(["/a/6.html", "/about.html"], "<a href='index_1.htm'>下一页</a>"),
        ),
        "/list/index_1.htm": (HTML, _listing(["/a/7.html"])),
        "/about.html": (HTML, _article(99)),
        "/other/": (HTML, _listing(["/a/8.html"])),
        "/secret": ("text/plain", b"the secret"),
        "/dtd": ("application/xml-dtd", b'<!ENTITY x "expanded">'),
    }
    if not robots:
        del routes["/robots.txt"]  # a 404: everything allowed, no sitemap announced
    for n in range(1, 10):
        routes[f"/a/{n}.html"] = (HTML, _article(n))
    # Row 31: XML attacks. Expanding any of them would fetch /secret or /dtd.
    secret_file.write_text(f"{base}/secret")
    doc = "<urlset><url><loc>&x;</loc></url></urlset>"
    # 10**7 copies of the secret URL once expanded
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 8))
    attacks = {
        "xxe-file": f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret_file}">]>{doc}',
        "xxe-http": f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{base}/secret">]>{doc}',
        "laughs": f'<!DOCTYPE urlset [<!ENTITY l0 "{base}/secret">{laughs}]>'
        "<urlset><url><loc>&l7;</loc></url></urlset>",
        "dtd": f'<!DOCTYPE rss SYSTEM "{base}/dtd">'
        f"<rss><channel><item><link>{base}/secret</link></item></channel></rss>",
        "param": f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{base}/dtd"> %p;]><rss/>',
        # scrapy/scrapy#7686: comments and PIs among the URLs; then it breaks off.
        "malformed": f"<urlset><!-- c --><?pi x?><url><loc>{base}/a/9.html</loc></url><url><loc",
        "garbage": "\x00\x01garbage",
    }
    routes |= {f"/attack/{name}.xml": (XML, body.encode()) for name, body in attacks.items()}
    # Row 32: bombs and cycles.
    member = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    spaces = member.compress(b" " * (8 << 20)) + member.flush()  # 8 MiB of spaces, 8 KB
    bomb = gzip.compress(f"<urlset><url><loc>{base}/a/1.html</loc></url>".encode()) + spaces * 128
    routes |= {
        "/bomb/sitemap.xml.gz": ("application/x-gzip", bomb),  # 1 GiB once decoded
        "/bomb/many.xml": (XML, _urlset(base, [f"/m/{n}.html" for n in range(150)])),
        "/cycle/a.xml": (XML, _index(base, ["/cycle/b.xml"])),
        "/cycle/b.xml": (XML, _index(base, ["/cycle/a.xml", "/cycle/c.xml"])),
        "/cycle/c.xml": (XML, _urlset(base, ["/a/1.html"])),
    }
    for n in range(6):  # /deep/0.xml -> ... -> /deep/5.xml, each an index
        routes[f"/deep/{n}.xml"] = (XML, _index(base, [f"/deep/{n + 1}.xml"]))
    routes["/deep/6.xml"] = (XML, _urlset(base, ["/a/1.html"]))
    return routes


class _Server(ThreadingHTTPServer):
    routes: dict[str, Route]
    hits: Counter[str]
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        with self.server.lock:
            self.server.hits[path] += 1
        route = self.server.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        content_type, body = route
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class Site:
    def __init__(self, server: _Server, base: str) -> None:
        self.server, self.base = server, base

    def hits(self, path: str) -> int:
        with self.server.lock:
            return self.server.hits[path]

    def reset(self) -> None:
        with self.server.lock:
            self.server.hits.clear()


def _serve(secret_file: Path, robots: bool) -> Iterator[Site]:
    server = _Server(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.routes = _routes(base, secret_file, robots)
    server.hits, server.lock = Counter(), threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(server, base)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site, whose robots.txt announces its sitemap index."""
    yield from _serve(tmp_path_factory.mktemp("secret") / "secret.txt", robots=True)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The same routes without a robots.txt, so only what a test names is read."""
    yield from _serve(tmp_path_factory.mktemp("secret") / "secret.txt", robots=False)


def _crawl(db: Path, *args: str) -> str:
    result = runner.invoke(app, ["crawl", "--db", str(db), "--delay", "0", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def _failures(db: Path) -> set[tuple[str, str]]:
    rows = _rows(db, "SELECT url, error_kind FROM fetch WHERE outcome = 'failed'")
    return {(url, kind) for url, kind in rows}


SITES = """
[site.main]
start = ["{base}/list/"]
feeds = ["{base}/rss.xml", "{base}/atom.xml"]
article_urls = ['/a/\\d+\\.html$']
listing_urls = ['/list/']

[site.main.politeness]
delay = 0
concurrency = 2

[site.main.extract]
title = ["h1"]

[site.other]
start = ["{base}/other/"]
"""


def test_sites_file_crawl_finds_articles_by_every_route(site: Site, tmp_path: Path):
    site.reset()
    sites = tmp_path / "sites.toml"
    sites.write_text(SITES.format(base=site.base), encoding="utf-8")
    db = tmp_path / "x.db"
    output = _crawl(db, "--sites", str(sites), "--site", "main")
    stored = {url for (url,) in _rows(db, "SELECT url FROM article")}
    # 1-2 from the gzip sitemap and 3 from the plain one (robots.txt -> index), 4 from RSS,
    # 5 from Atom, 6 from the listing, 7 from its second page (下一页 -> index_1.htm).
    assert stored == {f"{site.base}/a/{n}.html" for n in range(1, 8)}, output
    # The inline extraction rule of the site was used, under the site's name.
    assert {site_name for (site_name,) in _rows(db, "SELECT DISTINCT site FROM article")} == {
        "main"
    }
    assert _rows(db, "SELECT title FROM article WHERE url = ?", f"{site.base}/a/4.html") == [
        ("国务院部署第4项经济工作",)
    ]
    # /about.html matches no pattern; the site "other" was not selected.
    assert site.hits("/about.html") == 0 and site.hits("/other/") == 0
    assert site.hits("/a/8.html") == 0
    # Every sitemap and feed was read once, and counted as not an article.
    for path in ("/sitemap_index.xml", "/sitemaps/news.xml.gz", "/sitemaps/old.xml", "/rss.xml"):
        assert site.hits(path) == 1, path
    assert _failures(db) == set()
    states = dict(_rows(db, "SELECT url, state FROM frontier"))
    assert states[f"{site.base}/sitemaps/news.xml.gz"] == "listing"
    assert states[f"{site.base}/a/5.html"] == "done"


def test_site_selection_and_a_plain_start_url_feed(site: Site, bare: Site, tmp_path: Path):
    site.reset()
    sites = tmp_path / "sites.toml"
    sites.write_text(SITES.format(base=site.base), encoding="utf-8")
    db = tmp_path / "x.db"
    _crawl(db, "--sites", str(sites), "--site", "other")
    assert site.hits("/other/") == 1
    assert site.hits("/list/") == site.hits("/rss.xml") == site.hits("/atom.xml") == 0
    # Its own start page, and the sitemaps its host's robots.txt announces (no URL patterns).
    stored = {url for (url,) in _rows(db, "SELECT url FROM article")}
    assert stored == {f"{site.base}/a/{n}.html" for n in (1, 2, 3, 8)}
    # A start URL given on the command line that is a feed is read as one.
    db2 = tmp_path / "y.db"
    _crawl(db2, f"{bare.base}/atom.xml", "--max-pages", "2")
    assert _rows(db2, "SELECT url FROM article") == [(f"{bare.base}/a/5.html",)]


ATTACKS = ["xxe-file", "xxe-http", "laughs", "dtd", "param"]


def test_xml_attacks_are_refused_and_nothing_is_fetched(bare: Site, tmp_path: Path):
    """Fault-matrix row 31: no file read, no DTD or entity fetched, a classified failure each."""
    bare.reset()
    sites = tmp_path / "sites.toml"
    urls = ", ".join(f'"{bare.base}/attack/{name}.xml"' for name in [*ATTACKS, "malformed"])
    sites.write_text(f'[site.attacks]\nsitemaps = [{urls}, "{bare.base}/attack/garbage.xml"]\n')
    db = tmp_path / "x.db"
    _crawl(db, "--sites", str(sites), "--max-pages", "20")
    failures = _failures(db)
    for name in ATTACKS:
        assert (f"{bare.base}/attack/{name}.xml", "unsafe_xml") in failures, name
    assert (f"{bare.base}/attack/garbage.xml", "feed") in failures
    # The malformed sitemap gave the URL before the damage, and its damage is recorded.
    assert (f"{bare.base}/attack/malformed.xml", "feed") in failures
    assert _rows(db, "SELECT url FROM article") == [(f"{bare.base}/a/9.html",)]
    assert bare.hits("/secret") == 0 and bare.hits("/dtd") == 0
    messages = _rows(db, "SELECT error_message FROM fetch WHERE error_kind = 'unsafe_xml'")
    assert all("the secret" not in m and "expanded" not in m for (m,) in messages)
    states = dict(_rows(db, "SELECT url, state FROM frontier"))
    assert states[f"{bare.base}/attack/dtd.xml"] == "failed"


def test_sitemap_bombs_caps_and_cycles(bare: Site, tmp_path: Path, monkeypatch):
    """Fault-matrix row 32: each condition recorded under its own kind, no crash."""
    bare.reset()
    # 150 URLs against a cap of 100 stands in for 60,000 against 50,000 (test_feeds checks the
    # real cap), so the frontier is not filled with 50,000 rows here.
    monkeypatch.setattr(feeds, "MAX_URLS", 100)
    names = ["/bomb/sitemap.xml.gz", "/bomb/many.xml", "/cycle/a.xml", "/deep/0.xml"]
    sites = tmp_path / "sites.toml"
    urls = ", ".join(f'"{bare.base}{name}"' for name in names)
    sites.write_text(f'[site.bombs]\nsitemaps = [{urls}]\narticle_urls = ["/a/"]\n')
    db = tmp_path / "x.db"
    _crawl(db, "--sites", str(sites), "--max-pages", "40")
    failures = _failures(db)
    assert (f"{bare.base}/bomb/sitemap.xml.gz", "feed_too_large") in failures
    assert (f"{bare.base}/bomb/many.xml", "feed_truncated") in failures
    assert (f"{bare.base}/cycle/b.xml", "sitemap_cycle") in failures
    assert (f"{bare.base}/deep/3.xml", "sitemap_depth") in failures
    # The index chain stops at depth 3; the cycle is read once each way.
    assert [bare.hits(f"/deep/{n}.xml") for n in range(6)] == [1, 1, 1, 1, 0, 0]
    assert bare.hits("/cycle/a.xml") == 1 and bare.hits("/cycle/b.xml") == 1
    assert bare.hits("/cycle/c.xml") == 1
    # The URL before the bomb's padding was kept; the article patterns refused /m/*.
    assert _rows(db, "SELECT url FROM article") == [(f"{bare.base}/a/1.html",)]
    assert bare.hits("/m/0.html") == 0


def test_truncated_sitemap_queues_the_cap(bare: Site, tmp_path: Path, monkeypatch):
    bare.reset()
    monkeypatch.setattr(feeds, "MAX_URLS", 100)
    db = tmp_path / "x.db"
    _crawl(db, f"{bare.base}/bomb/many.xml", "--max-pages", "1")
    queued = _rows(db, "SELECT count(*) FROM frontier WHERE url LIKE ?", f"{bare.base}/m/%")
    assert queued == [(100,)]
    assert (f"{bare.base}/bomb/many.xml", "feed_truncated") in _failures(db)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[site.a]\nstart = ['http://x/']\npolitness = {}\n", "site.a.politness: Extra inputs"),
        ("[site.a]\nstart = ['ftp://x/']\n", "site.a.start: Value error, not an http(s) URL"),
        ("[site.a]\nhosts = ['x']\n", "at least one URL in start, feeds or sitemaps"),
        ("[site.a]\nstart = ['http://x/']\narticle_urls = ['(']\n", "invalid regex '('"),
        ("[site.Bad]\nstart = ['http://x/']\n", "site.Bad.[key]"),
        ("[site.a]\nstart = ['http://x/']\n[site.a.politeness]\nconcurrency = 0\n",
         "site.a.politeness.concurrency"),
        ("[site.a]\nstart = ['http://x/']\nrules = 'r.toml'\n[site.a.extract]\ntitle = ['h1']\n",
         "either rules (a file) or [extract]"),
        ("[site.a]\nstart = ['http://x/']\n[site.a.extract]\ntitel = ['h1']\n",
         "site.a.extract.titel"),
        ("[site.a]\nstart = ['http://x/']\nrules = 'missing.toml'\n", "missing.toml: cannot read"),
        ("[site.a]\nstart = 'http://x/'\n", "site.a.start: Input should be a valid list"),
        ("site = 1\n", "site: Input should be a valid dictionary"),
        ("[site.a\n", "cannot read the sites file"),
        ("", "site: Field required"),
    ],
)  # fmt: skip
def test_sites_file_errors_name_the_file_and_the_key(tmp_path: Path, toml: str, message: str):
    sites = tmp_path / "sites.toml"
    sites.write_text(toml, encoding="utf-8")
    result = runner.invoke(app, ["crawl", "--db", str(tmp_path / "x.db"), "--sites", str(sites)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "xinwen: error:" in result.output
    assert str(sites) in result.output or "missing.toml" in result.output
    assert not (tmp_path / "x.db").exists()  # nothing was opened, nothing fetched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nope"], "no site named nope (the file has: a)"),
        (["--site", "a", "--site", "nope", "--site", "zz"], "no site named nope, zz"),
    ],
)
def test_unknown_site_names(tmp_path: Path, args: list[str], message: str):
    sites = tmp_path / "sites.toml"
    sites.write_text("[site.a]\nstart = ['http://127.0.0.1:9/']\n")
    result = runner.invoke(
        app, ["crawl", "--db", str(tmp_path / "x.db"), "--sites", str(sites), *args]
    )
    assert result.exit_code == 2 and message in result.output
    result = runner.invoke(app, ["crawl", "--db", str(tmp_path / "x.db"), "--site", "a"])
    assert result.exit_code == 2 and "--sites FILE" in result.output


def test_a_rule_file_relative_to_the_sites_file(tmp_path: Path):
    from xinwen.siteconfig import load_sites

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(
        'id = "r"\nname = "R"\nhosts = ["news.example.cn"]\n[extract]\ntitle = ["h1"]\n'
    )
    sites = tmp_path / "sites.toml"
    sites.write_text(
        "[site.a]\nstart = ['https://news.example.cn/']\nrules = 'rules/r.toml'\n"
        "hosts = ['m.example.cn', 'news.example.cn']\n[site.a.politeness]\ndelay = 3\n"
    )
    (loaded,) = load_sites(sites)
    assert loaded.rule is not None and loaded.rule.id == "r"
    assert loaded.hosts == {"news.example.cn", "m.example.cn"} and loaded.delay == 3.0
    assert loaded.per_host is None and loaded.patterns == ()


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("doc", "rule"), [("docs/sites.md", "demo-rule.toml"), ("README.md", "news-rule.toml")]
)
def test_documented_sites_files_load(tmp_path: Path, doc: str, rule: str):
    """The sites-file examples in the docs are valid sites files."""
    from xinwen import demo
    from xinwen.siteconfig import load_sites

    text = (ROOT / doc).read_text("utf-8")
    example = text.split("```toml\n[site.demo]", 1)[1].split("```", 1)[0]
    (tmp_path / "sites.toml").write_text("[site.demo]" + example, encoding="utf-8")
    (tmp_path / rule).write_bytes(demo.RULE.read_bytes())
    (loaded,) = load_sites(tmp_path / "sites.toml", ["demo"])
    assert loaded.urls and loaded.patterns and loaded.rule is not None
    assert loaded.delay == 2.0 and loaded.per_host == 1
    cli = (ROOT / "docs/cli.md").read_text("utf-8")
    assert "| `--sites FILE` |" in cli and "| `--site NAME` |" in cli
