"""Rows for people and programs: the table, JSON and CSV output of `xinwen sql`, `stats`, `sites`.

Everything is written as UTF-8 to a binary stream the caller gives. Text from the archive is
untrusted (a page title can hold ESC sequences or a right-to-left override): tables show control
and format characters escaped (`\\x1b`, `\\u202e`), and JSON escapes them too, so printing a
result cannot drive the terminal (fault matrix row 35). CSV keeps values as they are: it is for
files.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError
from .rules import SiteRule
from .store import Archive
from .store.query import read_only
from .store.views import site_stats

__all__ = [
    "FORMATS",
    "json_text",
    "terminal_text",
    "utf8_text",
    "write_query",
    "write_rows",
    "write_sites",
    "write_stats",
]

FORMATS = ("table", "json", "csv")
# A table cell longer than this many terminal columns is cut, with an ellipsis.
_CELL_WIDTH = 60
# What JSON leaves raw but a terminal may act on: DEL, C1 controls, and the format characters
# (zero-width, BiDi overrides and isolates, BOM) and line separators. json.dumps escapes C0.
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """JSON with Chinese unescaped, but every control and format character escaped."""
    dumped = json.dumps(value, ensure_ascii=False, indent=indent, default=_jsonable)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):  # a BLOB, as sqlite-utils writes it
        return {"$base64": True, "encoded": base64.b64encode(value).decode()}
    return str(value)  # datetimes


def _shown(value: Any) -> str:
    """A cell as a terminal may safely show it: one line, control characters escaped."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(char)
            named = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char)
            out.append(named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"))
        else:
            out.append(char)
    return "".join(out)


def terminal_text(value: Any) -> str:
    """`value` as a terminal may safely show it: control, format (U+202E) and line-separator
    characters escaped (`\\x1b`, `\\u202e`, `\\n`), everything else, Chinese included, as is
    (fault matrix row 35)."""
    return _shown(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str, limit: int = _CELL_WIDTH) -> str:
    if _width(text) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        used += _width(char)
        if used > limit - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


@contextmanager
def utf8_text(out: IO[bytes]) -> Iterator[io.TextIOWrapper]:
    """A UTF-8 text view of `out` that leaves `out` open afterwards."""
    wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


def write_rows(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], out: IO[bytes], fmt: str = "table"
) -> int:
    """Write rows as an aligned table, a JSON array of objects, or CSV; returns the row count.

    JSON and CSV stream; a table reads all rows first to size its columns.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    count = 0
    with utf8_text(out) as stream:
        if fmt == "csv":
            writer = csv.writer(stream)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(
                    base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in row
                )
                count += 1
        elif fmt == "json":
            stream.write("[")
            for row in rows:
                stream.write(",\n " if count else "\n ")
                stream.write(json_text(dict(zip(columns, row, strict=True))))
                count += 1
            stream.write("\n]\n" if count else "]\n")
        else:
            table = [list(row) for row in rows]
            count = len(table)
            _write_table(columns, table, stream)
    return count


def _write_table(columns: Sequence[str], table: list[list[Any]], stream: IO[str]) -> None:
    header = [_shown(c) for c in columns]
    cells = [[_cut(_shown(v)) for v in row] for row in table]
    # Numbers are right-aligned, so their digits line up.
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in table) and bool(table)
        for i in range(len(header))
    ]
    widths = [_width(h) for h in header]
    for row in cells:
        widths = [max(w, _width(c)) for w, c in zip(widths, row, strict=True)]

    def line(values: list[str]) -> str:
        padded = [
            " " * (w - _width(v)) + v if right else v + " " * (w - _width(v))
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip() + "\n"

    stream.write(line(header))
    stream.write(line(["-" * w for w in widths]))
    for row in cells:
        stream.write(line(row))


def write_query(db: str | Path, sql: str, out: IO[bytes], fmt: str = "table") -> int:
    """Run one read-only SQL statement on an archive file and write its rows (`xinwen sql`)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    with read_only(db) as connection:
        columns, rows = connection.execute(sql)
        return write_rows(columns, rows, out, fmt)


_STATS_COLUMNS = ("site", "articles", "fetches", "failures", "last_fetch_at", "flagged_share")


def write_stats(db: str | Path, out: IO[bytes], *, as_json: bool = False) -> int:
    """Per-site counts of an archive (`xinwen stats`); returns the number of sites."""
    with Archive(db, must_exist=True) as archive:
        rows = site_stats(archive)
    if as_json:
        with utf8_text(out) as stream:
            stream.write(json_text(rows, indent=2) + "\n")
        return len(rows)

    def counts(found: dict[str, int]) -> str:
        return ", ".join(f"{name} {n}" for name, n in found.items())

    table = [
        [*(row[c] for c in _STATS_COLUMNS), counts(row["failures_by_kind"]), counts(row["flags"])]
        for row in rows
    ]
    return write_rows([*_STATS_COLUMNS, "failures_by_kind", "flags"], table, out)


def write_sites(rules: Sequence[SiteRule], out: IO[bytes], *, as_json: bool = False) -> int:
    """The configured site rules (`xinwen sites`); returns how many."""
    described = [rule.summary() for rule in rules]
    if as_json:
        with utf8_text(out) as stream:
            stream.write(json_text(described, indent=2) + "\n")
        return len(described)
    columns = ["id", "name", "hosts", "utc_offset", "fields"]
    table = [
        [", ".join(v) if isinstance(v, list) else v for v in (d[c] for c in columns)]
        for d in described
    ]
    return write_rows(columns, table, out)
