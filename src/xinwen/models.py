"""Values handed from one stage to the next: plain dataclasses, no pydantic.

`Page` (fetch) -> `Decoded` (encoding) -> `Extracted` (parse) -> `Article` (normalize) -> store.
`Article` and `Section`, the public record, are pydantic models in `record.py`: a parse worker
imports this module and not that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
