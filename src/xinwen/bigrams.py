"""The text the full-text index holds for a title or body: its Han runs cut into bigrams.

`store/search.py` explains the scheme and owns the index; the transform lives here, apart from
the database, so that a parse worker (which loads no SQL) can make an article's index text
while the crawl's process fetches and stores (see `workerproc.prepare`). It is part of the
database format: changing it needs a migration that rebuilds the index.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array

# Han characters: the unified ideographs, extension A, the compatibility block, the
# supplementary planes (extensions B-H), and 〇 (U+3007, the ideographic zero of dates).
HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_SPLIT_RE = re.compile(f"([{HAN}]+)")  # the runs kept, between the other text
_nfkc = unicodedata.normalize
# index_text's code units: 4 bytes, in the machine's order.
_UNIT = next(code for code in "IL" if array(code).itemsize == 4)
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_SPACE = array(_UNIT, [ord(" ")])


def index_text(value: str | None) -> str:
    """The text FTS5 indexes for `value`: each Han run as its pairs and its last character.

    >>> index_text("央行降准，GDP增长")
    '央行 行降 降准 准 ,GDP 增长 长'
    """
    if not value:
        return ""
    # Every adjacent pair of the text is made at once, in C, as 4-byte code units: character i
    # and i + 1 and a space at 3i, 3i + 1 and 3i + 2. A Han run's pairs are then one slice of
    # it, where they were a string per pair and a join per run (0.75 -> 0.25 ms for a corpus
    # article's title and body).
    codes = array(_UNIT, value.encode(_UTF32, "surrogatepass"))
    size = len(codes)
    units = _SPACE * (3 * size)
    units[0::3] = codes
    units[1 : 3 * size - 3 : 3] = codes[1:]
    pairs = units.tobytes().decode(_UTF32, "surrogatepass")
    out: list[str] = []
    append = out.append
    start = 0
    # The text between Han runs at even places, the runs at odd ones.
    for number, part in enumerate(_HAN_SPLIT_RE.split(value)):
        end = start + len(part)
        if number & 1:
            if end - start > 1:
                append(pairs[3 * start : 3 * end - 4])
            append(part[-1])
        elif part and (part.isascii() or (part := _nfkc("NFKC", part))):
            append(part)
        start = end
    return " ".join(out)


def fold(segment: str) -> str:
    """Full-width letters and digits (ＧＤＰ, ２０２４) as ASCII, in the index and in queries."""
    return segment if segment.isascii() else _nfkc("NFKC", segment)
