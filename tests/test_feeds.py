"""Sitemaps and feeds as bytes in, URLs out: formats, encodings, hostile XML, bombs and caps.

The crawl over real HTTP is in test_discovery_crawl.py; here each case is one call of the pure
parser, so a failure names the exact input.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

import pytest

from xinwen import feeds
from xinwen.discover import UrlPatterns, follow
from xinwen.errors import FeedError, FeedTooLarge, UnsafeXML
from xinwen.feeds import SitemapTree, parse, sniff

BASE = "https://news.example.cn"
SITEMAP = f"{BASE}/sitemap.xml"


def _urls(data: bytes, url: str = SITEMAP) -> list[str]:
    return [entry.url for entry in parse(data, url).entries]


def test_urlset_with_lastmod_and_google_news():
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>{BASE}/a/1.html</loc>
    <image:image><image:loc>{BASE}/img/1.jpg</image:loc></image:image>
    <news:news>
      <news:publication><news:name>新闻网</news:name><news:language>zh</news:language></news:publication>
      <news:publication_date>2024-11-06T10:00:00+08:00</news:publication_date>
      <news:title>国务院召开常务会议</news:title>
    </news:news>
  </url>
  <url><loc> {BASE}/a/2.html </loc><lastmod>2024-11-08</lastmod></url>
</urlset>""".encode()
    feed = parse(data, SITEMAP)
    assert feed.kind == "sitemap" and not feed.problems
    first, second = feed.entries
    # The image's <loc> is not a page of the sitemap.
    assert (first.url, first.title) == (f"{BASE}/a/1.html", "国务院召开常务会议")
    assert first.modified is not None and first.modified.isoformat() == "2024-11-06T10:00:00+08:00"
    # A date without a time or zone is a Beijing date.
    assert second.url == f"{BASE}/a/2.html"
    assert (
        second.modified is not None and second.modified.isoformat() == "2024-11-08T00:00:00+08:00"
    )
    assert feed.urls() == [f"{BASE}/a/2.html", f"{BASE}/a/1.html"]  # the newest first


def test_sitemap_index_and_gzip():
    index = f"<sitemapindex><sitemap><loc>{BASE}/s/1.xml.gz</loc></sitemap></sitemapindex>"
    feed = parse(index.encode(), SITEMAP)
    assert feed.is_index and feed.urls() == [f"{BASE}/s/1.xml.gz"]
    urlset = f"<urlset><url><loc>{BASE}/a/1.html</loc></url></urlset>".encode()
    assert _urls(gzip.compress(urlset)) == [f"{BASE}/a/1.html"]
    # Concatenated gzip members are one file (gzip -c a b > c).
    halves = gzip.compress(urlset[:20]) + gzip.compress(urlset[20:])
    assert _urls(halves) == [f"{BASE}/a/1.html"]


def test_rss_in_gb2312_with_html_entities():
    data = f"""<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0"><channel><title>新闻</title><link>{BASE}/</link>
<item><title>央行&nbsp;降准</title><link>{BASE}/a/1.html</link>
  <pubDate>Wed, 06 Nov 2024 10:00:00 +0800</pubDate></item>
<item><title>镕基</title><guid>{BASE}/a/2.html</guid></item>
<item><title>无链接</title><guid isPermaLink="false">id-3</guid></item>
</channel></rss>""".encode("gb18030")
    feed = parse(data, f"{BASE}/rss.xml")
    assert feed.kind == "rss"
    assert [(e.url, e.title) for e in feed.entries] == [
        (f"{BASE}/a/1.html", "央行\xa0降准"),  # &nbsp; is undefined in XML: read, not fatal
        (f"{BASE}/a/2.html", "镕基"),  # a GBK-only character under a gb2312 label
    ]
    assert feed.entries[0].modified is not None
    assert feed.entries[0].modified.isoformat() == "2024-11-06T10:00:00+08:00"


def test_atom_alternate_links_resolved_against_the_feed():
    data = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link href="/"/>
<entry><title type="html">A &amp; B</title><link rel="edit" href="/edit/1"/>
  <link href="/a/1.html"/><updated>2024-11-06T02:00:00Z</updated></entry>
<entry><link rel="alternate" type="text/html" href="https://news.example.cn/a/2.html"/>
  <source><link href="https://elsewhere.example.com/"/></source></entry>
</feed>"""
    feed = parse(data, f"{BASE}/feeds/atom.xml")
    assert feed.kind == "atom"
    assert [(e.url, e.title) for e in feed.entries] == [
        (f"{BASE}/a/1.html", "A & B"),
        (f"{BASE}/a/2.html", None),
    ]


def test_rss_1_0_and_text_sitemaps():
    rdf = f"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
    <channel><link>{BASE}/</link></channel>
    <item><link>{BASE}/a/1.html</link><dc:date>2024-11-06T10:00:00+08:00</dc:date></item>
    </rdf:RDF>""".encode()
    assert _urls(rdf) == [f"{BASE}/a/1.html"]
    text = f"\n{BASE}/a/1.html\r\n{BASE}/a/2.html\n".encode()
    feed = parse(text, f"{BASE}/sitemap.txt")
    assert feed.kind == "text" and feed.urls() == [f"{BASE}/a/1.html", f"{BASE}/a/2.html"]


def test_comments_processing_instructions_and_leading_blank_lines():
    # scrapy/scrapy#7686 (lxml hands comments and PIs over as elements) and scrapy/scrapy#347
    # (blank lines before the XML declaration): both are read like any sitemap.
    data = (
        f'\n\n<?xml version="1.0"?><urlset><!-- c --><?pi x?><url><loc>{BASE}/a/1.html</loc>'
        "<!-- in a url --></url></urlset>"
    ).encode()
    assert _urls(data) == [f"{BASE}/a/1.html"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("xxe file", b'<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b"<urlset><url><loc>&x;</loc></url></urlset>"),
        ("xxe http", b'<!DOCTYPE urlset [<!ENTITY x SYSTEM "http://127.0.0.1:9/secret">]>'
         b"<urlset><url><loc>&x;</loc></url></urlset>"),
        ("external dtd", b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/dtd">'
         b"<rss><channel><item><link>https://news.example.cn/a/1.html</link></item></channel></rss>"),
        ("parameter entity", b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/dtd">'
         b" %p;]><rss/>"),
        ("internal entity", b'<!DOCTYPE urlset [<!ENTITY a "https://news.example.cn/a/1.html">]>'
         b"<urlset><url><loc>&a;</loc></url></urlset>"),
    ],
)  # fmt: skip
def test_dtds_and_entities_are_refused_unread(name: str, data: bytes):
    with pytest.raises(UnsafeXML) as caught:
        parse(data, SITEMAP)
    assert caught.value.kind == "unsafe_xml" and caught.value.url == SITEMAP
    assert "DOCTYPE" in str(caught.value)


def _billion_laughs(levels: int = 7) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, levels + 1)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE urlset [{"".join(entities)}]>'
        f"<urlset><url><loc>&lol{levels};</loc></url></urlset>"
    ).encode()


def _peak(call) -> tuple[float, object]:
    tracemalloc.start()
    try:
        began = time.perf_counter()
        try:
            result: object = call()
        except FeedError as exc:
            result = exc
        return time.perf_counter() - began, (result, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def test_billion_laughs_is_refused_before_any_expansion():
    elapsed, (result, peak) = _peak(lambda: parse(_billion_laughs(), SITEMAP))  # type: ignore[misc]
    assert isinstance(result, UnsafeXML)
    assert peak < 1024 * 1024 and elapsed < 1.0  # 10**7 "lol"s would be 30 MB


def _gzip_bomb(prefix: bytes, gib: float = 1.0) -> bytes:
    """`prefix`, then `gib` GiB of spaces, as gzip members of 8 MiB each (about 1 MB in all)."""
    member = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    spaces = member.compress(b" " * (8 << 20)) + member.flush()
    return gzip.compress(prefix) + spaces * int(gib * 128)


def test_gzip_bomb_stops_at_the_decoded_cap_and_keeps_what_came_before():
    bomb = _gzip_bomb(f"<urlset><url><loc>{BASE}/a/1.html</loc></url>".encode())
    assert len(bomb) < 2 * 1024 * 1024
    _, (feed, peak) = _peak(lambda: parse(bomb, SITEMAP))  # type: ignore[misc]
    assert isinstance(feed, feeds.Feed)
    assert feed.urls() == [f"{BASE}/a/1.html"]
    assert [p.kind for p in feed.problems] == ["feed_too_large"]
    assert peak < 8 * 1024 * 1024  # decoded in 64 KiB steps, never held whole
    # With nothing before the cap, the bomb is an error of its own.
    with pytest.raises(FeedTooLarge):
        parse(_gzip_bomb(b"<urlset>", gib=0.1), SITEMAP)


def test_more_urls_than_the_protocol_allows_are_cut_at_50000():
    many = b"".join(
        b"<url><loc>%s/m/%d.html</loc></url>" % (BASE.encode(), i) for i in range(60_000)
    )
    feed = parse(b"<urlset>" + many + b"</urlset>", SITEMAP)
    assert len(feed.entries) == feeds.MAX_URLS == 50_000
    assert feed.entries[-1].url == f"{BASE}/m/49999.html"
    assert [p.kind for p in feed.problems] == ["feed_truncated"]


def test_damage_keeps_the_entries_before_it():
    broken = f"<urlset><url><loc>{BASE}/a/1.html</loc></url><url><loc>{BASE}/a/2".encode()
    feed = parse(broken, SITEMAP)
    assert feed.urls() == [f"{BASE}/a/1.html"] and [p.kind for p in feed.problems] == ["feed"]
    urls = "".join(f"<url><loc>{BASE}/a/{n}.html</loc></url>" for n in range(2000))
    truncated = gzip.compress(f"<urlset>{urls}</urlset>".encode())
    feed = parse(truncated[: len(truncated) // 2], SITEMAP)
    assert 0 < len(feed.entries) < 2000 and feed.entries[0].url == f"{BASE}/a/0.html"
    assert [p.kind for p in feed.problems] == ["feed"] and "ends early" in str(feed.problems[0])


def _corrupt_gzip() -> bytes:
    data = gzip.compress(b"<urlset>" * 100)
    return data[:15] + bytes(byte ^ 0x55 for byte in data[15:-8]) + data[-8:]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<!doctype html><html><body>hello</body></html>", "not well-formed"),
        (b"<html><body>hello</body></html>", "root element is <html>"),
        (b"\0" * 100_000, "neither XML nor a list of URLs"),
        (b"hello world\nnot urls\n", "neither XML nor a list of URLs"),
        (b"<urlset>" + b"<a>" * 10_000, "nested more than"),
        (b"\x1f\x8b\x08\x00garbage", "gzip stream ends early"),
        (_corrupt_gzip(), "corrupt gzip"),
    ],
)
def test_not_a_feed_is_a_classified_error(data: bytes, message: str):
    with pytest.raises(FeedError) as caught:
        parse(data, SITEMAP)
    assert type(caught.value) is FeedError and message in str(caught.value)


def test_sniff_by_content_type_gzip_or_root_element():
    assert sniff(b"<rss/>", "application/rss+xml")
    assert sniff(b"\x1f\x8b\x08rest", None)
    assert sniff(b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- x --><sitemapindex>', "text/xml")
    assert sniff("<feed xmlns='http://www.w3.org/2005/Atom'>".encode("utf-16"), "text/xml")
    assert sniff(b"<!DOCTYPE rss SYSTEM 'http://x/dtd'><rss>", "text/html")
    assert not sniff(b"<?xml version='1.0'?><!DOCTYPE html><html>", "application/xhtml+xml")
    assert not sniff(b"<!doctype html><html><body>", "text/html")
    assert not sniff(b'<!DOCTYPE lolz [<!ENTITY a "]>">]><lolz>', "application/xml")


def test_sitemap_tree_refuses_cycles_and_deep_nesting():
    tree = SitemapTree(max_depth=3)
    assert tree.children("s/a", ["s/b"]) == (["s/b"], [])
    allowed, problems = tree.children("s/b", ["s/a", "s/b", "s/c"])
    assert allowed == ["s/c"] and [p.kind for p in problems] == ["sitemap_cycle"] * 2
    assert tree.children("s/c", ["s/d"])[0] == ["s/d"]  # a -> b -> c -> d: depth 3
    allowed, problems = tree.children("s/d", ["s/e"])
    assert allowed == [] and [p.kind for p in problems] == ["sitemap_depth"]
    assert problems[0].url == "s/d"
    # An index the tree has not seen (a resumed crawl) starts a new tree.
    assert tree.children("s/x", ["s/y"])[0] == ["s/y"]


def test_url_patterns_and_files_in_follow():
    import re

    patterns = UrlPatterns({"news.example.cn": (re.compile(r"/a/\d+\.html$"),)})
    links = [f"{BASE}/a/1.html", f"{BASE}/about.html", "https://other.example.cn/x.html"]
    hosts = {"news.example.cn", "other.example.cn"}
    # A host without patterns (other.example.cn) accepts every URL.
    assert follow(links, hosts, set(), accept=patterns.accepts) == [
        f"{BASE}/a/1.html",
        "https://other.example.cn/x.html",
    ]
    gz = [f"{BASE}/s/1.xml.gz"]
    assert follow(gz, hosts, set()) == [] and follow(gz, hosts, set(), files=True) == gz


def test_parse_dates():
    assert feeds.parse_date("2024-11-06T02:00:00Z").isoformat() == "2024-11-06T02:00:00+00:00"  # type: ignore[union-attr]
    assert feeds.parse_date("2024-11-06 10:00").isoformat() == "2024-11-06T10:00:00+08:00"  # type: ignore[union-attr]
    assert feeds.parse_date("yesterday") is None and feeds.parse_date(None) is None


def test_listing_pagination_is_found_apart_from_the_links():
    from xinwen.parse import extract

    listing = (
        "<html><body><ul>"
        + "".join(f"<li><a href='/a/{n}.html'>标题{n}</a></li>" for n in range(30))
        + "</ul><div class=pager><a href='index_1.htm'>2</a><a href='index_2.htm'>3</a>"
        "<a href='/list/more.htm'>下一页 &gt;</a><a href='/about.html'>关于</a></div>"
        "<link rel='next' href='/list/?page=2'></body></html>"
    )
    found = extract(listing, f"{BASE}/list/", links=True)
    assert not found.is_article
    assert found.pagination == [
        f"{BASE}/list/?page=2",
        f"{BASE}/list/more.htm",
        f"{BASE}/list/index_1.htm",
        f"{BASE}/list/index_2.htm",
    ]
    # Without links=True (one page, no crawl) nothing is looked for.
    assert extract(listing, f"{BASE}/list/").pagination == []
