"""Normalize extracted fields into the stored record: simplified script, no pinyin glosses,
clean whitespace, no boilerplate.

OpenCC's t2s runs only on text detected as traditional: on simplified text it corrupts words
(`首批覆盖` becomes `首批复盖`, because 批覆 is the traditional spelling of 批复).

`record_fields` makes the record as plain data, without pydantic: a crawl's parse workers
normalize articles with it and never load pydantic (15 MB of a worker's memory); `normalize`
makes the `Article` itself.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import opencc

from .models import Block, Decoded, Extracted

if TYPE_CHECKING:
    from .record import Article, Section

_T2S = opencc.OpenCC("t2s")

# A pinyin gloss: `導(dǎo)`, `現(xiàn)`, `（yín háng）`, `(péng you)`. Each syllable must have
# pinyin's shape (an optional initial, vowels, an optional -n/-ng/-r) and at least one syllable
# of the gloss must carry a tone mark: that keeps `(GDP)`, `(2024)`, `(app)` and accented words
# such as `(café)` intact. The gloss may follow a Latin letter as well as a Han character: on the
# first customer's page a character lost to mojibake left `B(tài)` behind.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_COMBINING = r"[aeiouü][\u0300-\u036f]"
_VOWEL = rf"(?:[aeiouüv{_TONED}]|{_COMBINING})"
_MARKED = rf"(?:[{_TONED}]|{_COMBINING})"
_INITIAL = r"(?:[zcs]h|[bpmfdtnlgkhjqxrzcsyw])?"
_FINAL = r"(?:ng|n|r)?"
_TONED_SYLLABLE = rf"{_INITIAL}{_VOWEL}*{_MARKED}{_VOWEL}*{_FINAL}"
_ANY_SYLLABLE = rf"{_INITIAL}{_VOWEL}+{_FINAL}"
# Toned syllables may run together (`xiàndài`); an unmarked one must be set apart by a space or
# an apostrophe, or `café` would read as `ca` + `fé`.
_SEP = r"[\s'’]*"
_GAP = r"[\s'’]+"
_GLOSS_RE = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaffA-Za-z])\s?[(（]\s*"
    rf"(?:{_ANY_SYLLABLE}{_GAP})*?{_TONED_SYLLABLE}"
    rf"(?:{_SEP}{_TONED_SYLLABLE}|{_GAP}{_ANY_SYLLABLE})*"
    r"\s*[)）]",
    re.IGNORECASE,
)

# Spaces that Chinese pages use for indentation and layout: U+3000, NBSP and the like.
_SPACES_RE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE_RE = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200d\u2060\ufeff]")
_COMBINING_MARK_RE = re.compile(r"[\u0300-\u036f]")
# A character that composing marks or a pinyin gloss needs (a gloss has a toned vowel, in either
# case or written with a combining mark). Most pages have none in their body: one search over it
# spares each block both steps (with clean_whitespace's fast path, _sections 0.30 -> 0.19 ms a
# corpus page).
_LATIN_MARK_RE = re.compile(rf"[{_TONED}\u0300-\u036f]", re.IGNORECASE)
_MARK_RUN_RE = re.compile(r"[A-Za-zü][\u0300-\u036f]+")

# The page counts as traditional when traditional-only characters outnumber simplified-only
# ones by more than 1.5x: the corpus's own rule for its `lang` field (see its SOURCES.md).
_HANT_RATIO = 1.5


@cache
def _script_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Character classes of the traditional-only and of the simplified-only characters.

    Over U+3400-U+9FFF, a character is traditional-only if t2s changes it, simplified-only if
    s2t changes it and t2s does not. Built once, on first use (20 ms), with one OpenCC call per
    direction over all 27,648 characters joined by newlines (one call per character: 68 ms). No
    dictionary entry contains a newline, so each character converts alone: on OpenCC 1.4.2 the
    two ways agree on every character.
    """
    chars = [chr(code) for code in range(0x3400, 0xA000)]
    joined = "\n".join(chars)
    s2t = _s2t_characters()
    to_simplified = _T2S.convert(joined).split("\n")
    to_traditional = s2t.convert(joined).split("\n")
    if len(to_simplified) != len(chars) or len(to_traditional) != len(chars):
        # Never seen; one call per character rather than a misaligned table.
        to_simplified = [_T2S.convert(c) for c in chars]
        to_traditional = [s2t.convert(c) for c in chars]
    traditional = [c for c, s in zip(chars, to_simplified, strict=True) if s != c]
    simplified = [
        c for c, s, t in zip(chars, to_simplified, to_traditional, strict=True) if t != c and s == c
    ]
    return re.compile(_char_class(traditional)), re.compile(_char_class(simplified))


def _s2t_characters() -> opencc.OpenCC:
    """OpenCC's s2t with its character table alone: all `_script_res` asks of s2t.

    s2t's phrase tables convert no lone character (on OpenCC 1.4.2 both give the same answer
    for every character of U+3400-U+9FFF; tests/test_normalize.py checks it), and they took
    26 MB of memory in every process that normalizes; the character table takes 1 MB. OpenCC
    reads a configuration only from a file: one naming the table by its full path is written
    to a temporary directory. Where OpenCC keeps its tables elsewhere, the whole s2t.
    """
    table = Path(opencc.__file__).parent / "clib" / "share" / "opencc" / "STCharacters.ocd2"
    if not table.is_file():
        return opencc.OpenCC("s2t")
    config = {
        "name": "s2t, characters only",
        "conversion_chain": [{"dict": {"type": "ocd2", "file": str(table)}}],
    }
    with tempfile.TemporaryDirectory(prefix="xinwen-opencc-") as directory:
        path = Path(directory) / "s2t_characters.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        return opencc.OpenCC(str(path))


def _char_class(chars: list[str]) -> str:
    """A regex character class matching exactly `chars` (in code point order), runs as ranges."""
    parts: list[str] = []
    start = end = -2
    for code in map(ord, chars):
        if code == end + 1:
            end = code
            continue
        if start >= 0:
            parts.append(f"{chr(start)}-{chr(end)}" if end > start else chr(start))
        start = end = code
    if start >= 0:
        parts.append(f"{chr(start)}-{chr(end)}" if end > start else chr(start))
    return "[" + "".join(parts) + "]"  # nothing in U+3400-U+9FFF needs escaping in a class


def detect_script(text: str) -> str:
    """`zh-Hant` if the text is written in traditional characters, else `zh-Hans`.

    Each distinct character counts once: traditional-only ones against simplified-only ones.
    Regex scans find them without making a string of every character, as `set(text)` would:
    0.55 ms per corpus page with a per-character lookup, 0.16 with sets, 0.03 this way.
    """
    traditional_re, simplified_re = _script_res()
    found = traditional_re.findall(text)
    if not found:  # the common case: no traditional-only character, so simplified
        return "zh-Hans"
    traditional = len(set(found))
    simplified = len(set(simplified_re.findall(text)))
    return "zh-Hant" if traditional > _HANT_RATIO * simplified else "zh-Hans"


def to_simplified(text: str) -> str:
    """`text` in simplified script: converted with t2s only if it is detected as traditional."""
    return _T2S.convert(text) if detect_script(text) == "zh-Hant" else text


def strip_glosses(text: str) -> str:
    """Remove pinyin glosses such as `導(dǎo)` -> `導`, leaving `(GDP)` and `(2024)` alone."""
    # A gloss needs an opening parenthesis; most paragraphs have none, and two `in` tests are
    # cheaper than the regex's lookbehind tried at every character.
    if "(" not in text and "（" not in text:
        return text
    return _GLOSS_RE.sub("", text)


def clean_whitespace(text: str) -> str:
    """Collapse layout spaces and drop invisible characters, line by line."""
    # Every character the regexes below remove or replace, bar " ", is unprintable, and so are
    # line breaks: a printable text only needs its runs of spaces collapsed and its ends
    # stripped. That is 99% of the corpus's blocks, and one scan in C instead of two regex
    # substitutions (clean_whitespace over a corpus page's blocks: 0.079 -> 0.019 ms).
    if text.isprintable():
        return (_SPACES_RE.sub(" ", text) if "  " in text else text).strip()
    text = _INVISIBLE_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # _SPACES_RE never matches a newline, so one pass over the whole text equals one per line.
    text = _SPACES_RE.sub(" ", text)
    if "\n" not in text:  # blocks come from the extractor as single lines
        return text.strip()
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class _Boilerplate:
    """data/boilerplate.toml, compiled as two alternations.

    Most patterns are anchored at the start (`^原标题[:：]`): `match` tries those at position 0
    only, where one `search` over all patterns tried every pattern at every position. Same
    answers, 7x faster on the corpus's paragraphs (0.25 -> 0.04 ms per page).
    """

    max_length: int
    at_start: re.Pattern[str]
    anywhere: re.Pattern[str]

    def matches(self, line: str) -> bool:
        return len(line) <= self.max_length and (
            self.at_start.match(line) is not None or self.anywhere.search(line) is not None
        )


def _anchored(pattern: str) -> bool:
    """True if `pattern` can only match at the start of a line.

    That is, it begins with `^` outside any group and has no top-level `|`. Anything unusual
    (inline flags such as `(?m)`) counts as not anchored, which is always safe: those patterns
    are searched for everywhere.
    """
    if not pattern.startswith("^"):
        return False
    depth = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":  # skip the class; a `]` right after `[` or `[^` is a literal
            index += 2 if pattern.startswith("[^", index) else 1
            index += 1 if pattern.startswith("]", index) else 0
            while index < len(pattern) and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
        elif char == "(":
            if pattern.startswith("(?", index) and not pattern.startswith("(?:", index):
                return False
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
        index += 1
    return True


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    # An empty alternation would match everything: "(?!)" matches nothing.
    return re.compile("|".join(f"(?:{p})" for p in patterns) or "(?!)", re.IGNORECASE)


@cache
def _boilerplate() -> _Boilerplate:
    raw = resources.files("xinwen").joinpath("data/boilerplate.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    patterns: list[str] = data["patterns"]
    return _Boilerplate(
        int(data["max_length"]),
        _alternation([p for p in patterns if _anchored(p)]),
        _alternation([p for p in patterns if not _anchored(p)]),
    )


def is_boilerplate(line: str) -> bool:
    """True for a line that belongs to the page's furniture, not to the article."""
    return _boilerplate().matches(line)


# Icon-font glyphs at the ends of a short field (Sina's book pages end titles with U+E004). Only
# the ends: old GB pages map rare Han characters into this range inside running text.
_PRIVATE_ENDS = re.compile(r"^[\ue000-\uf8ff\s]+|[\ue000-\uf8ff\s]+$")


def _text(value: str | None, traditional: bool, marks: bool = True) -> str | None:
    """A field or block as stored; `marks=False` says it has no character `_LATIN_MARK_RE`
    finds, so that neither marks nor glosses can need any work."""
    if value is None:
        return None
    if marks:
        value = strip_glosses(_compose_marks(value))
    value = clean_whitespace(value)
    # A single line comes back stripped of spaces, so only a glyph at an end can start a match:
    # tested first, as the regex tries its second half at every character (0.1 ms a page).
    # (Compared in line: two calls of a helper took a tenth of this function's time.)
    if (
        value
        and "\n" not in value
        and ("\ue000" <= value[0] <= "\uf8ff" or "\ue000" <= value[-1] <= "\uf8ff")
    ):
        value = _PRIVATE_ENDS.sub("", value)
    if traditional:
        value = _T2S.convert(value)
    return value or None


def _compose_marks(text: str) -> str:
    """Compose combining tone marks so glosses typed either way look the same."""
    # NFC would also fold CJK compatibility ideographs (U+F900...), changing real text; only
    # Latin letters with combining marks need composing here.
    # A regex search finds "no mark" in C: 0.22 -> 0.02 ms per corpus page against a generator.
    if _COMBINING_MARK_RE.search(text) is None:
        return text
    return _MARK_RUN_RE.sub(lambda m: unicodedata.normalize("NFC", m.group()), text)


def _sections(blocks: list[Block], traditional: bool) -> list[dict[str, Any]]:
    """The body's sections as `Section.model_dump()` gives them: dicts, no pydantic."""
    sections: list[dict[str, Any]] = []
    heading: str | None = None
    level = 0
    page = 1
    paragraphs: list[str] = []

    def close() -> None:
        if heading is not None or paragraphs:
            text = "\n".join(paragraphs)
            sections.append({"heading": heading, "level": level, "text": text, "page": page})

    furniture = _boilerplate().matches
    marks = _LATIN_MARK_RE.search("".join(block.text for block in blocks)) is not None
    for block in blocks:
        text = _text(block.text, traditional, marks)
        if not text:
            continue
        if "\n" in text:
            lines = [line for line in text.split("\n") if not furniture(line)]
            if not lines:
                continue
        elif furniture(text):  # blocks come from the extractor as single lines
            continue
        else:
            lines = [text]
        if block.page != page:
            # A section never spans two parts of a multi-page article: the boundary is kept.
            close()
            heading, level, page, paragraphs = None, 0, block.page, []
        if block.heading_level:
            close()
            heading, level, paragraphs = " ".join(lines), block.heading_level, []
        else:
            paragraphs.extend(lines)
    close()
    return sections


def _body(parts: Iterable[tuple[str | None, str]]) -> str:
    lines: list[str] = []
    for heading, text in parts:
        if heading:
            lines.append(heading)
        if text:
            lines.append(text)
    return "\n".join(lines)


def body_text(sections: Sequence[Section]) -> str:
    """The body as stored: each heading on its own line, then its paragraphs."""
    return _body((section.heading, section.text) for section in sections)


def record_fields(extracted: Extracted, decoded: Decoded, *, url: str, site: str) -> dict[str, Any]:
    """The stored record's fields, in simplified Chinese, as plain data: a dict shaped like
    `Article.model_dump()` (sections as dicts), its quality measures at their defaults
    (`quality.measures` gives them). `Article.model_validate` makes it the record."""
    sample = (extracted.title or "") + "".join(b.text for b in extracted.blocks[:200])
    lang = detect_script(sample)
    traditional = lang == "zh-Hant"
    sections = _sections(extracted.blocks, traditional)
    return {
        "url": url,
        "site": site,
        "title": _text(extracted.title, traditional),
        "category": _text(extracted.category, traditional),
        "published_at": extracted.published_at,
        "author": _text(extracted.author, traditional),
        "source": _text(extracted.source, traditional),
        "lang_original": lang,
        "sections": sections,
        "body": _body((section["heading"], section["text"]) for section in sections),
        "encoding": decoded.encoding,
        "encoding_source": decoded.source,
        "extracted_by": dict(extracted.extracted_by),
        "editor": _text(extracted.editor, traditional),
        "published_precision": extracted.published_precision,
        "published_raw": extracted.published_raw,
        "decode_errors": 0,
        "cjk_ratio": 0.0,
        "flags": [],
    }


def normalize(extracted: Extracted, decoded: Decoded, *, url: str, site: str) -> Article:
    """Turn extracted fields into the stored record, in simplified Chinese (its quality
    measures unset: see `quality.assess`)."""
    from .record import Article  # pydantic: loaded by those who make an Article, see above

    return Article.model_validate(record_fields(extracted, decoded, url=url, site=site))
