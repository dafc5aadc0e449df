"""The public record of an article: `Article` and its `Section`s.

`xinwen parse` prints `Article` as JSON and the `article`/`section` tables use the same names
(see docs/schema.md). Kept apart from the stage values in `models.py` because these are
pydantic models: a parse worker never imports this module (pydantic and the models took 15 MB
of its memory); it hands the record's fields over as plain data (`normalize.record_fields`)
and the crawl's process validates them into an `Article`.
"""

from __future__ import annotations

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
