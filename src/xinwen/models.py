"""Values handed from one stage to the next, and the public article record.

`Page` (fetch) -> `Decoded` (encoding) -> `Extracted` (parse) -> `Article` (normalize) -> store.
`Article` and `Section` are the public record: `xinwen parse` prints `Article` as JSON and the
`article`/`section` tables use the same names (see docs/schema.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """One part of an article body: an optional heading and the text under it."""

    model_config = ConfigDict(frozen=True)

    heading: str | None
    level: int  # 0 for text before the first heading; 1 for 一、/h2, 2 for 1.1/h3, 3 for 2.3.1/h4
    text: str
    page: int = 1  # the part of a multi-page article it is on (since record version 3)


class Article(BaseModel):
    """The record of one article, normalized to simplified Chinese."""

    model_config = ConfigDict(frozen=True)

    url: str
    site: str
    title: str | None
    category: str | None
    published_at: str | None  # ISO-8601 with offset, e.g. 2024-11-06T19:15:32+08:00
    author: str | None
    source: str | None
    lang_original: str  # zh-Hant or zh-Hans: the script the page was written in
    sections: list[Section]
    body: str  # the normalized text, headings on their own lines, paragraphs split by "\n"
    encoding: str  # the codec the page's bytes were decoded with
    encoding_source: str  # bom, header, meta, detected or default
    extracted_by: dict[str, str]  # field -> "rule:<id>", "generic:<method>"
    # Since record version 2 (schema 2):
    editor: str | None = None  # 责任编辑, kept apart from author and source
    published_precision: str | None = None  # day, minute or second: what the page showed
    published_raw: str | None = None  # the date text as the page showed it
    decode_errors: int = 0  # U+FFFD characters the decode produced
    cjk_ratio: float = 0.0  # Han characters among the body's non-space characters
    flags: list[str] = []  # quality flags: mojibake_suspect, short_body, date_missing, ...


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched response: the raw bytes and what is needed to decode and archive them."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    content: bytes
    fetched_at: datetime
    elapsed_ms: int = 0

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, with the codec chosen and where the choice came from."""

    text: str
    encoding: str
    source: str  # bom, header, meta, detected or default
    errors: int  # count of U+FFFD replacement characters the decode produced


@dataclass(slots=True)
class Block:
    """A paragraph or heading found in the page body, before normalization."""

    text: str
    heading_level: int = 0  # 0 for a paragraph
    page: int = 1  # the part of a multi-page article it came from


@dataclass(slots=True)
class Extracted:
    """Fields as found in the page, before normalization (may be traditional, may hold glosses)."""

    url: str | None
    title: str | None = None
    category: str | None = None
    published_at: str | None = None
    published_precision: str | None = None  # day, minute, second, ...: what the page showed
    published_raw: str | None = None  # the date text as found
    author: str | None = None
    source: str | None = None
    editor: str | None = None
    blocks: list[Block] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    is_article: bool = False  # False for listings, indexes and pages without a body
    next_page: str | None = None  # URL of the next part of a multi-page article
    canonical: str | None = None  # the page's <link rel=canonical>, made absolute
    pagination: list[str] = field(default_factory=list)  # a listing's links to its other pages
    truncated: bool = False  # the body was cut at parse.generic.MAX_BODY characters
    extracted_by: dict[str, str] = field(default_factory=dict)
