"""Stage 1, discovery beyond links: sitemaps and feeds, bytes in, URLs out (nothing is fetched).

`parse(data, url)` reads an XML sitemap (`urlset`, with `lastmod` and Google News
`news:publication_date`/`news:title`), a sitemap index, an RSS 0.9x/1.0/2.0 or Atom feed, or a
plain-text sitemap (one URL a line), gzip-compressed or not, and returns its `Entry`s.

Hostile input (fault-matrix rows 31-32) is refused or capped, never expanded or followed:

- XML is read by expat with handlers that raise `UnsafeXML` at the first DTD or entity
  declaration, before anything is expanded, read or fetched: external entities (`file:///...`),
  billion laughs and external DTDs alike. Undefined entities (`&nbsp;` in a title) are skipped
  instead of failing the whole feed, through expat's empty "foreign DTD".
- gzip is undone in 64 KiB steps, concatenated members included, and reading stops at
  `MAX_DECODED` bytes (`FeedTooLarge`); at most `MAX_URLS` entries are kept (`FeedTruncated`).
- A document that breaks off or turns malformed keeps the entries read before the damage.

A cap reached or damage survived is not raised: it is in `Feed.problems`, for the crawler to
record, beside the entries read. `SitemapTree` limits how deep sitemap indexes nest and refuses
cycles (`SitemapDepth`, `SitemapCycle`).
"""

from __future__ import annotations

import codecs
import email.utils
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.entities import html5
from urllib.parse import urljoin
from xml.parsers import expat

from . import encoding
from .errors import FeedError, FeedTooLarge, FeedTruncated, SitemapCycle, SitemapDepth, UnsafeXML

# The sitemaps.org protocol's limits for one sitemap file: 50,000 URLs and 50 MB uncompressed
# (Scrapy's SitemapSpider caps gunzip the same way, hahwul/urx#269 the URL count).
MAX_DECODED = 50 * 1024 * 1024
MAX_URLS = 50_000
# Sitemap indexes may not nest by the protocol; real sites nest one level at most. Fault-matrix
# row 32 asks for 3, which stops a chain of indexes long before it costs anything.
MAX_INDEX_DEPTH = 3
# Sitemaps and feeds nest a few elements deep; a document nesting deeper is not one of them (and
# its element stack must not grow with it).
_MAX_NESTING = 64
# A field longer than this is cut: a URL over 2,083 characters is not followed anyway, and a
# 20 MB text node must not be collected whole.
_MAX_FIELD = 4096
_STEP = 64 * 1024
_GZIP = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
# Naive times in Chinese feeds and sitemaps are Beijing time.
_CHINA = timezone(timedelta(hours=8))

_XML_DECLARATION = re.compile(rb"^<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:\-]{1,40})")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_GZIP_TYPES = ("application/x-gzip", "application/gzip", "application/x-gunzip")
_ROOTS = {"urlset": "sitemap", "sitemapindex": "sitemapindex", "rss": "rss", "RDF": "rss",
          "feed": "atom"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    """One URL a sitemap or feed lists, with what it says about it."""

    url: str
    modified: datetime | None = None  # lastmod, news:publication_date, pubDate, Atom updated
    title: str | None = None  # an item's or entry's title, news:title


@dataclass(slots=True)
class Feed:
    """What one sitemap or feed lists.

    `kind` is `sitemap`, `sitemapindex` (its entries are sitemaps), `rss`, `atom` or `text`.
    `problems` are the reasons the entries may be incomplete (a cap, damage after some entries).
    """

    kind: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[FeedError] = field(default_factory=list)

    @property
    def is_index(self) -> bool:
        return self.kind == "sitemapindex"

    def urls(self) -> list[str]:
        """The entries' URLs, the most recently changed first (undated ones last, in order), so
        a crawl with a page budget reads the newest articles first."""
        oldest = datetime.min.replace(tzinfo=UTC)
        dated = sorted(self.entries, key=lambda e: e.modified or oldest, reverse=True)
        return [entry.url for entry in dated]


def sniff(data: bytes, content_type: str | None = None) -> bool:
    """Whether a fetched body is a sitemap or feed: a feed or gzip content type, gzip bytes, or a
    root element `urlset`, `sitemapindex`, `rss`, `rdf:RDF` or Atom `feed`.

    >>> sniff(b'<?xml version="1.0"?>\\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    True
    >>> sniff(b'<?xml version="1.0"?><!DOCTYPE html><html>', "application/xhtml+xml")
    False
    """
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in _FEED_TYPES or kind in _GZIP_TYPES or data.startswith(_GZIP):
        return True
    return _root_name(data) in _ROOTS


def _root_name(data: bytes) -> str | None:
    """The local name of the first element, looked for in the first 4 KiB."""
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[:8192].decode("utf-16", errors="replace")
    else:
        text = head.removeprefix(codecs.BOM_UTF8).decode("latin-1")
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if text.startswith("<?", at):
            end = _after(text, "?>", at)
        elif text.startswith("<!--", at):
            end = _after(text, "-->", at)
        elif text.startswith("<!", at):
            bracket, close = text.find("[", at), text.find(">", at)
            if 0 <= bracket < close:  # an internal subset: the declaration ends after its "]"
                inner = text.find("]", bracket)
                close = text.find(">", inner) if inner >= 0 else -1
            end = close + 1 if close >= 0 else -1
        else:
            break
        if end < 0:
            return None
        at = end
    match = re.match(r"<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)", text[at:])
    return match.group(1) if match else None


def _after(text: str, end: str, start: int) -> int:
    found = text.find(end, start)
    return found + len(end) if found >= 0 else -1


def parse(data: bytes, url: str) -> Feed:
    """The entries of a sitemap, sitemap index, RSS or Atom feed (gzip or not) fetched from `url`.

    Raises `UnsafeXML` for a DTD or entity declaration, `FeedTooLarge` for a gzip bomb with no
    entry before the cap, and `FeedError` for a body that is neither a sitemap nor a feed or
    that is malformed before its first entry. Relative URLs are resolved against `url`; only
    http(s) URLs are kept.

    >>> feed = parse(b"<urlset><url><loc>https://n.example.cn/a/1.html</loc>"
    ...              b"<lastmod>2024-11-06</lastmod></url></urlset>", "https://n.example.cn/s.xml")
    >>> feed.kind, feed.entries[0].url, feed.entries[0].modified.isoformat()
    ('sitemap', 'https://n.example.cn/a/1.html', '2024-11-06T00:00:00+08:00')
    """
    reader = _Reader(url)
    chunks = _gunzip(data) if data.startswith(_GZIP) else _slices(data)
    decoder: codecs.IncrementalDecoder | None = None
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_DECODED:
                reader.stop(FeedTooLarge(f"larger than {MAX_DECODED} bytes decoded", url=url))
                break
            if decoder is None:
                decoder = _decoder(chunk)
            if not reader.feed(decoder.decode(chunk)):
                break
        else:
            reader.feed((decoder.decode(b"", True) if decoder else ""), final=True)
    except _Damaged as exc:  # a corrupt or truncated gzip stream
        reader.stop(FeedError(str(exc), url=url))
    return reader.result()


def _decoder(head: bytes) -> codecs.IncrementalDecoder:
    """A decoder for the document: its BOM, else its XML declaration (widened to the superset
    codecs, gb2312 -> gb18030), else UTF-8; bad bytes become U+FFFD instead of failing."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if head.startswith(bom):
            return codecs.getincrementaldecoder(codec)(errors="replace")
    declared = _XML_DECLARATION.match(head.lstrip())
    label = encoding.resolve(declared.group(1).decode("ascii")) if declared else None
    # A declaration of UTF-16 without a BOM is a lie about bytes that read as ASCII here.
    if label is None or label.startswith(("utf-16", "utf-32")):
        label = "utf-8"
    return codecs.getincrementaldecoder(label)(errors="replace")


class _Damaged(Exception):
    """The gzip stream is corrupt or ends early."""


def _slices(data: bytes) -> Iterator[bytes]:
    # Fed in steps, so a long document is never decoded to one string of its whole size.
    for start in range(0, len(data), _STEP):
        yield data[start : start + _STEP]


def _gunzip(data: bytes) -> Iterator[bytes]:
    """The decompressed bytes in steps of at most 64 KiB; concatenated members are read too."""
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    pending = data
    while True:
        try:
            out = decompressor.decompress(pending, _STEP)
        except zlib.error as exc:
            raise _Damaged(f"corrupt gzip: {exc}") from exc
        progressed = bool(out) or len(decompressor.unconsumed_tail) < len(pending)
        pending = decompressor.unconsumed_tail
        if out:
            yield out
        if decompressor.eof:
            rest = decompressor.unused_data
            if not rest.startswith(_GZIP):
                return  # trailing garbage after the last member is ignored, as gzip(1) does
            decompressor, pending = zlib.decompressobj(_GZIP_WBITS), rest
        elif not pending and not out:
            raise _Damaged("the gzip stream ends early")
        elif not progressed:
            raise _Damaged("the gzip stream does not advance")


class _Stop(Exception):
    """Raised inside an expat handler to end the parse (a cap was reached)."""


class _Reader:
    """Expat handlers that collect the entries of a sitemap or feed as the text streams in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kind: str | None = None
        self.root: str | None = None
        self.entries: list[Entry] = []
        self.problems: list[FeedError] = []
        self.stack: list[str] = []
        self.item: dict[str, str] | None = None  # the fields of the entry being read
        self.field: str | None = None  # the field whose text is being collected
        self.text: list[str] = []
        self.mode: str | None = None  # "xml" or "plain" (a text sitemap), once the text begins
        self.plain: list[str] = []  # the text of a text sitemap not yet split into lines
        self.error: FeedError | None = None
        self.done = False
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external
        parser.SkippedEntityHandler = self._skipped
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        # An empty "foreign DTD" makes undefined entities skipped rather than fatal; the
        # external-entity handler below is what supplies it, and it reads nothing.
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_UNLESS_STANDALONE)
        parser.UseForeignDTD(True)
        self.parser = parser

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, text: str, final: bool = False) -> bool:
        """Parse the next piece of the document; False once no more is wanted."""
        if self.done:
            return False
        if self.mode is None:
            # Whitespace before the XML declaration is a common slip; expat refuses it.
            text = text.lstrip("\ufeff \t\r\n")
            if text:
                self.mode = "xml" if text.startswith("<") else "plain"
            elif not final:
                return True
            else:
                self.stop(FeedError("an empty document", url=self.url))
                return False
        if self.mode == "plain":
            return self._feed_plain(text, final)
        try:
            self.parser.Parse(text, final)
        except _Stop:
            self.done = True
        except UnsafeXML:
            raise
        except expat.ExpatError as exc:
            self.stop(FeedError(f"not well-formed XML: {exc}", url=self.url))
        except RecursionError as exc:  # expat nests handlers for deep entity stacks
            self.stop(FeedError(f"XML nested too deep: {exc}", url=self.url))
        return not self.done

    def _feed_plain(self, text: str, final: bool) -> bool:
        self.plain.append(text)
        if "\n" not in text and not final:
            if sum(len(piece) for piece in self.plain) > _MAX_FIELD:
                self.stop(FeedError("neither XML nor a list of URLs", url=self.url))
            return not self.done
        lines = "".join(self.plain).split("\n")
        self.plain = [] if final else [lines.pop()]
        for line in lines:
            line = line.strip()
            if not line:
                continue
            if len(line) > _MAX_FIELD or not line.lower().startswith(("http://", "https://")):
                self.stop(FeedError("neither XML nor a list of URLs", url=self.url))
                break
            self.kind = "text"
            try:
                self._add(line, None, None)
            except _Stop:
                break
        return not self.done

    def stop(self, problem: FeedError) -> None:
        """End the reading with `problem` as the reason the entries may be incomplete."""
        if not self.done:
            self.problems.append(problem)
            self.done = True

    def result(self) -> Feed:
        if self.kind is None or (not self.entries and self.problems):
            if self.problems:
                raise self.problems[0]
            if self.root is None:
                raise FeedError("an empty document", url=self.url)
            raise FeedError(
                f"not a sitemap or feed: the root element is <{self.root}>", url=self.url
            )
        return Feed(self.kind, self.entries, self.problems)

    # -- expat handlers --------------------------------------------------------------------

    def _doctype(self, name: str, system_id: str | None, public_id: str | None, *_: object) -> None:
        where = f" ({system_id})" if system_id else ""
        raise UnsafeXML(f"refused: the XML declares a DTD <!DOCTYPE {name}>{where}", url=self.url)

    def _entity(self, name: str, *_: object) -> None:
        raise UnsafeXML(f"refused: the XML declares the entity {name!r}", url=self.url)

    def _external(
        self, context: str | None, base: str | None, system_id: str | None, public_id: str | None
    ) -> int:
        if system_id is not None:  # unreachable once DOCTYPE is refused; never read one anyway
            raise UnsafeXML(f"refused: an external entity ({system_id})", url=self.url)
        # The foreign DTD: an empty one, parsed from nothing.
        self.parser.ExternalEntityParserCreate(context).Parse(b"", True)
        return 1

    def _skipped(self, name: str, is_parameter: int) -> None:
        # An undefined entity: an HTML name (&nbsp;) becomes its character, anything else nothing.
        if not is_parameter:
            self._data(html5.get(name + ";", ""))

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        self.stack.append(local)
        if len(self.stack) > _MAX_NESTING:
            self.stop(FeedError(f"elements nested more than {_MAX_NESTING} deep", url=self.url))
            raise _Stop
        if self.root is None:
            self.root = local
            self.kind = _ROOTS.get(local)
            if self.kind is None:
                raise _Stop
            return
        if local in ("url", "sitemap", "item", "entry") and len(self.stack) <= 4:
            self.item = {}
        elif self.item is not None:
            parent = self.stack[-2]
            if self.kind == "atom" and local == "link" and parent == "entry":
                rel = attributes.get("rel", "alternate")
                if rel == "alternate" and "link" not in self.item and attributes.get("href"):
                    self.item["link"] = attributes["href"]
            elif local == "guid" and attributes.get("isPermaLink", "true").lower() == "false":
                pass  # an opaque id, not a URL
            elif local in _FIELDS and (parent in ("url", "sitemap", "item", "entry", "news")):
                self.field, self.text = local, []

    def _data(self, data: str) -> None:
        if self.field is not None and sum(len(t) for t in self.text) < _MAX_FIELD:
            self.text.append(data)

    def _end(self, name: str) -> None:
        local = self.stack.pop() if self.stack else name.rpartition(" ")[2]
        if self.item is None:
            return
        if local == self.field:
            value = "".join(self.text).strip()[:_MAX_FIELD]
            if value:
                self.item.setdefault(local, value)
            self.field = None
        elif local in ("url", "sitemap", "item", "entry") and len(self.stack) <= 3:
            item, self.item = self.item, None
            link = item.get("loc") or item.get("link") or item.get("guid")
            if link:
                when = (item.get("lastmod") or item.get("publication_date")
                        or item.get("pubDate") or item.get("date") or item.get("updated")
                        or item.get("published"))  # fmt: skip
                self._add(link, parse_date(when), item.get("title"))

    def _add(self, link: str, modified: datetime | None, title: str | None) -> None:
        url = link.strip()
        if not url.lower().startswith(("http://", "https://")):
            # Relative links are against the protocol but seen; urljoin only for them (it
            # costs half the parse on a 50,000-URL sitemap).
            url = urljoin(self.url, url)
            if not url.lower().startswith(("http://", "https://")):
                return
        if len(self.entries) >= MAX_URLS:
            self.stop(
                FeedTruncated(f"more than {MAX_URLS} URLs; the rest are dropped", url=self.url)
            )
            raise _Stop
        self.entries.append(Entry(url, modified, title))


# The fields read, by local name: sitemap `loc`, `lastmod`; news `publication_date`, `title`;
# RSS `link`, `guid`, `pubDate`, dc:`date`; Atom `updated`, `published`.
_FIELDS = frozenset(
    {"loc", "lastmod", "publication_date", "title", "link", "guid", "pubDate", "date",
     "updated", "published"}
)  # fmt: skip


def parse_date(value: str | None) -> datetime | None:
    """A W3C datetime (sitemaps, Atom) or an RFC 822 date (RSS), aware; naive ones are read as
    Beijing time. None when absent or unreadable.

    >>> parse_date("Wed, 06 Nov 2024 10:00:00 GMT").isoformat()
    '2024-11-06T10:00:00+00:00'
    """
    if not value:
        return None
    value = value.strip()[:64]
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            found = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return found if found.tzinfo is not None else found.replace(tzinfo=_CHINA)


class SitemapTree:
    """Which sitemaps the indexes of one crawl may lead to: none deeper than `MAX_INDEX_DEPTH`
    below an index that was given (or found in robots.txt), and none back to an index that
    led to it. An index the tree has not seen (a crawl resumed after a crash) counts as given.
    """

    def __init__(self, max_depth: int = MAX_INDEX_DEPTH) -> None:
        self.max_depth = max_depth
        self._parent: dict[str, str] = {}

    def _ancestors(self, url: str) -> list[str]:
        chain = [url]
        while chain[-1] in self._parent and len(chain) <= self.max_depth + 1:
            chain.append(self._parent[chain[-1]])
        return chain

    def children(self, index: str, sitemaps: list[str]) -> tuple[list[str], list[FeedError]]:
        """The sitemaps an index lists that may be fetched, and the problems with the others.

        >>> tree = SitemapTree()
        >>> tree.children("https://a.cn/a.xml", ["https://a.cn/b.xml"])
        (['https://a.cn/b.xml'], [])
        >>> tree.children("https://a.cn/b.xml", ["https://a.cn/a.xml"])[1][0].kind
        'sitemap_cycle'
        """
        ancestors = self._ancestors(index)
        problems: list[FeedError] = []
        if len(ancestors) > self.max_depth:
            depth = len(ancestors) - 1
            problems.append(SitemapDepth(
                f"a sitemap index nested {depth} deep lists {len(sitemaps)} more; the limit is "
                f"{self.max_depth}", url=index))  # fmt: skip
            return [], problems
        allowed: list[str] = []
        for url in sitemaps:
            if url in ancestors:
                problems.append(SitemapCycle(f"lists {url}, which led to it", url=index))
                continue
            self._parent.setdefault(url, index)
            allowed.append(url)
        return allowed, problems
