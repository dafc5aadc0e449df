"""Quality of an extracted article: measures and flags stored with it for SQL users to filter.

Pure: an `Article` and the `Decoded` page in, the same article with `decode_errors`,
`cjk_ratio` and `flags` filled out (`assess`); or, without pydantic, those three fields of an
article's body, title and date (`measures`, which a parse worker uses on the record's fields).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .models import Decoded, Extracted

if TYPE_CHECKING:
    from .record import Article

# A body shorter than this is flagged: below it the corpus's truth bodies are teasers,
# error pages or captions, not articles.
SHORT_BODY = 200
# Signatures of text decoded with the wrong codec: GBK's replacement bytes read as GBK
# (锟斤拷), UTF-8 read as Latin-1 (Ã, Â, æ followed by Latin-1 punctuation), and U+FFFD itself.
_MOJIBAKE = re.compile(r"锟斤拷|烫烫烫|屯屯屯|[ÃÂ][\x80-\xbf]|æ[\x80-\xbf–—˜]|\ufffd")
# The first characters of `_MOJIBAKE`'s alternatives: a text holding none of them cannot match,
# and seven `in` tests find that out faster than the regex's search (tests/test_quality.py
# checks the list against the pattern).
_MOJIBAKE_LEADS = "锟烫屯ÃÂæ\ufffd"
# The Han characters counted for `cjk_ratio`: U+3400-U+9FFF and U+F900-U+FAFF, which are the
# UTF-16 code units whose high byte is one of these.
_HAN_HIGH_BYTES = bytes([*range(0x34, 0xA0), 0xF9, 0xFA])
_SPACE = re.compile(r"\s+")


def assess(article: Article, decoded: Decoded) -> Article:
    """The article with its quality measures and flags."""
    return article.model_copy(
        update=measures(article.body, article.title, article.published_at, decoded)
    )


def measures(
    body: str, title: str | None, published_at: str | None, decoded: Decoded
) -> dict[str, Any]:
    """An article's `decode_errors`, `cjk_ratio` and `flags`, from its body, title and date."""
    # The counts and the mojibake test below avoid regex scans of the body: 0.18 -> 0.04 ms a
    # corpus article.
    chars = _non_space(body)
    han = _han(body)  # no Han character is a space
    flags: list[str] = []
    if decoded.errors or _mojibake(body) or _mojibake(title or ""):
        flags.append("mojibake_suspect")
    if chars < SHORT_BODY:
        flags.append("short_body")
    if published_at is None:
        flags.append("date_missing")
    if not title:
        flags.append("title_missing")
    return {
        "decode_errors": decoded.errors,
        "cjk_ratio": round(han / chars, 3) if chars else 0.0,
        "flags": flags,
    }


def _non_space(text: str) -> int:
    """The number of characters of `text` that are not whitespace (`\\s`)."""
    # A normalized body's only whitespace is spaces and newlines: counted, where removing all
    # whitespace with a regex copied the text. Every other whitespace character is unprintable,
    # so a text that is printable once its newlines are spaces has none.
    spaced = text.replace("\n", " ")
    if spaced.isprintable():
        return len(spaced) - spaced.count(" ")
    return len(_SPACE.sub("", text))


def _han(text: str) -> int:
    """The number of Han characters (U+3400-U+9FFF, U+F900-U+FAFF) in `text`."""
    # The high bytes of the text's UTF-16 code units, with the Han ones deleted: three passes
    # in C, where a regex substitution removed every run of non-Han characters one by one.
    # Characters beyond U+FFFF become surrogates (high bytes 0xD8-0xDF), never counted; lone
    # surrogates (possible in a `str` handed to `extract`) pass through the same way.
    high = text.encode("utf-16-be", "surrogatepass")[::2]
    return len(high) - len(high.translate(None, _HAN_HIGH_BYTES))


def _mojibake(text: str) -> bool:
    return any(lead in text for lead in _MOJIBAKE_LEADS) and _MOJIBAKE.search(text) is not None


# The end of a document: a page without either lost its tail in transit.
_DOCUMENT_END = re.compile(r"</(?:html|body)\s*>", re.I)


def unframed(headers: Mapping[str, str]) -> bool:
    """Whether a body was delimited by the end of the connection (no Content-Length, not
    chunked): the one framing in which HTTP cannot tell a body that lost its tail (row 9).

    With the other framings HTTP checks the length (a short body is `DataLoss`), so a page
    that came framed is not judged by the checks below: a third of the corpus pages lack
    `</html>` and are complete, and a much shorter version of a page is an edit.
    """
    return "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "")


def cut_short(text: str, body: int, before: int | None = None) -> bool:
    """Whether an unframed page looks cut off (fault matrix row 9): no `</body>` or `</html>`,
    or an extracted body of `body` characters, less than half the `before` stored for it."""
    return _DOCUMENT_END.search(text) is None or (before is not None and 2 * body < before)


@cache
def _block_patterns() -> tuple[int, re.Pattern[str] | None, re.Pattern[str] | None]:
    raw = resources.files("xinwen").joinpath("data/soft_block.toml").read_text("utf-8")
    data = tomllib.loads(raw)

    def either(patterns: list[str]) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None

    return int(data["max_body"]), either(data.get("titles", [])), either(data.get("texts", []))


def page_block(extracted: Extracted) -> str | None:
    """`soft_block` of an extracted page: its title and the text of its blocks."""
    return soft_block(extracted.title, "\n".join(block.text for block in extracted.blocks))


def soft_block(title: str | None, body: str) -> str | None:
    """The text that marks a page as a block or CAPTCHA page served in place of the article
    (fault matrix row 14; the patterns are data/soft_block.toml), or None for a real page."""
    max_body, titles, texts = _block_patterns()
    if len(_SPACE.sub("", body)) >= max_body:
        return None
    if title and titles is not None and (match := titles.search(title)):
        return match.group(0)
    if texts is not None and (match := texts.search(body)):
        return match.group(0)
    return None
