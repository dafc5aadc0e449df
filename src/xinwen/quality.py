"""Quality of an extracted article: measures and flags stored with it for SQL users to filter.

Pure: an `Article` and the `Decoded` page in, the same article with `decode_errors`,
`cjk_ratio` and `flags` filled out.
"""

from __future__ import annotations

import re

from .models import Article, Decoded

# A body shorter than this is flagged: below it the corpus's truth bodies are teasers,
# error pages or captions, not articles.
SHORT_BODY = 200
# Signatures of text decoded with the wrong codec: GBK's replacement bytes read as GBK
# (锟斤拷), UTF-8 read as Latin-1 (Ã, Â, æ followed by Latin-1 punctuation), and U+FFFD itself.
_MOJIBAKE = re.compile(r"锟斤拷|烫烫烫|屯屯屯|[ÃÂ][\x80-\xbf]|æ[\x80-\xbf–—˜]|\ufffd")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")


def assess(article: Article, decoded: Decoded) -> Article:
    """The article with its quality measures and flags."""
    text = _SPACE.sub("", article.body)
    han = len(_HAN.findall(text))
    flags: list[str] = []
    if decoded.errors or _MOJIBAKE.search(article.body) or _MOJIBAKE.search(article.title or ""):
        flags.append("mojibake_suspect")
    if len(text) < SHORT_BODY:
        flags.append("short_body")
    if article.published_at is None:
        flags.append("date_missing")
    if not article.title:
        flags.append("title_missing")
    return article.model_copy(
        update={
            "decode_errors": decoded.errors,
            "cjk_ratio": round(han / len(text), 3) if text else 0.0,
            "flags": flags,
        }
    )
