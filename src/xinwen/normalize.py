"""Normalize extracted fields into the stored record: simplified script, no pinyin glosses,
clean whitespace, no boilerplate.

OpenCC's t2s runs only on text detected as traditional: on simplified text it corrupts words
(`首批覆盖` becomes `首批复盖`, because 批覆 is the traditional spelling of 批复).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from importlib import resources

import opencc

from .models import Article, Block, Decoded, Extracted, Section

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")

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
_HAN_RE = re.compile(r"[\u3400-\u9fff]")

# The page counts as traditional when traditional-only characters outnumber simplified-only
# ones by more than 1.5x: the corpus's own rule for its `lang` field (see its SOURCES.md).
_HANT_RATIO = 1.5


@cache
def _script_of(char: str) -> int:
    """+1 for a traditional-only character, -1 for a simplified-only one, 0 for shared ones."""
    if _T2S.convert(char) != char:
        return 1
    if _S2T.convert(char) != char:
        return -1
    return 0


def detect_script(text: str) -> str:
    """`zh-Hant` if the text is written in traditional characters, else `zh-Hans`."""
    traditional = simplified = 0
    for char in set(_HAN_RE.findall(text)):
        score = _script_of(char)
        if score > 0:
            traditional += 1
        elif score < 0:
            simplified += 1
    return "zh-Hant" if traditional > _HANT_RATIO * simplified else "zh-Hans"


def strip_glosses(text: str) -> str:
    """Remove pinyin glosses such as `導(dǎo)` -> `導`, leaving `(GDP)` and `(2024)` alone."""
    return _GLOSS_RE.sub("", text)


def clean_whitespace(text: str) -> str:
    """Collapse layout spaces and drop invisible characters, line by line."""
    text = _INVISIBLE_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


@cache
def _boilerplate() -> tuple[int, re.Pattern[str]]:
    raw = resources.files("xinwen").joinpath("data/boilerplate.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    pattern = re.compile("|".join(f"(?:{p})" for p in data["patterns"]), re.IGNORECASE)
    return int(data["max_length"]), pattern


def is_boilerplate(line: str) -> bool:
    """True for a line that belongs to the page's furniture, not to the article."""
    max_length, pattern = _boilerplate()
    return len(line) <= max_length and pattern.search(line) is not None


def _text(value: str | None, traditional: bool) -> str | None:
    if value is None:
        return None
    value = clean_whitespace(strip_glosses(_compose_marks(value)))
    if traditional:
        value = _T2S.convert(value)
    return value or None


def _compose_marks(text: str) -> str:
    """Compose combining tone marks so glosses typed either way look the same."""
    # NFC would also fold CJK compatibility ideographs (U+F900...), changing real text; only
    # Latin letters with combining marks need composing here.
    if not any("\u0300" <= c <= "\u036f" for c in text):
        return text
    return re.sub(
        r"[A-Za-zü][\u0300-\u036f]+", lambda m: unicodedata.normalize("NFC", m.group()), text
    )


def _sections(blocks: list[Block], traditional: bool) -> list[Section]:
    sections: list[Section] = []
    heading: str | None = None
    level = 0
    paragraphs: list[str] = []

    def close() -> None:
        if heading is not None or paragraphs:
            sections.append(Section(heading=heading, level=level, text="\n".join(paragraphs)))

    for block in blocks:
        text = _text(block.text, traditional)
        if not text:
            continue
        lines = [line for line in text.split("\n") if not is_boilerplate(line)]
        if not lines:
            continue
        if block.heading_level:
            close()
            heading, level, paragraphs = " ".join(lines), block.heading_level, []
        else:
            paragraphs.extend(lines)
    close()
    return sections


def body_text(sections: list[Section]) -> str:
    """The body as stored: each heading on its own line, then its paragraphs."""
    parts: list[str] = []
    for section in sections:
        if section.heading:
            parts.append(section.heading)
        if section.text:
            parts.append(section.text)
    return "\n".join(parts)


def normalize(extracted: Extracted, decoded: Decoded, *, url: str, site: str) -> Article:
    """Turn extracted fields into the stored record, in simplified Chinese."""
    sample = (extracted.title or "") + "".join(b.text for b in extracted.blocks[:200])
    lang = detect_script(sample)
    traditional = lang == "zh-Hant"
    sections = _sections(extracted.blocks, traditional)
    return Article(
        url=url,
        site=site,
        title=_text(extracted.title, traditional),
        category=_text(extracted.category, traditional),
        published_at=extracted.published_at,
        author=_text(extracted.author, traditional),
        source=_text(extracted.source, traditional),
        lang_original=lang,
        sections=sections,
        body=body_text(sections),
        encoding=decoded.encoding,
        encoding_source=decoded.source,
        extracted_by=dict(extracted.extracted_by),
    )
