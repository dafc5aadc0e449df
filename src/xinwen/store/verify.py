"""Integrity of the stored raw bytes (fault matrix row 47): every payload's sha256 recomputed.

A payload row is keyed by the sha256 of the body as fetched, and holds the body zstd-compressed
with its size. `verify` decompresses each one and hashes it again, like `warcio check` does for a
WARC file's digests: a flipped bit on disk, a bad copy or a hand edit shows up as a payload whose
bytes no longer match its name. Nothing is repaired: the report says which payloads, and which
captured URLs used them, so they can be fetched again.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import zstandard
from sqlalchemy import Connection, text

# Decompressed bytes are hashed in pieces this big, so a payload never needs twice its size in
# memory, and a corrupt frame that claims a huge size cannot make us allocate it.
_PIECE = 1024 * 1024
# How many URLs of the captures that used a bad payload are named in the report.
_URLS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A payload whose bytes do not match its name.

    `problem` is `digest` (the bytes hash to another sha256), `size` (the right hash is
    impossible: more or fewer bytes than recorded) or `undecodable` (the zstd data is corrupt).
    """

    sha256: str
    problem: str
    detail: str
    urls: tuple[str, ...] = ()  # captured URLs that used the payload (a few of them)
    captures: int = 0  # how many captures used it


@dataclass(slots=True)
class VerifyReport:
    """What `verify` found: payloads checked, and the ones that do not match."""

    checked: int = 0
    bytes: int = 0  # decompressed bytes hashed
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _check(sha256: str, size: int, data: bytes) -> tuple[str, str] | None:
    """(problem, detail) for one payload row, or None if it is intact."""
    digest = hashlib.sha256()
    length = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
            while piece := reader.read(_PIECE):
                length += len(piece)
                if length > size:
                    return "size", f"decompresses to more than the recorded {size} bytes"
                digest.update(piece)
    except zstandard.ZstdError as exc:
        return "undecodable", f"the zstd data is corrupt: {exc}"
    if length != size:
        return "size", f"decompresses to {length} bytes, not the recorded {size}"
    found = digest.hexdigest()
    if found != sha256:
        return "digest", f"the bytes hash to {found}"
    return None


def verify(connection: Connection, on_payload: Callable[[int], None] | None = None) -> VerifyReport:
    """Recompute the sha256 of every stored payload; `on_payload(checked)` after each one."""
    report = VerifyReport()
    rows = connection.execution_options(stream_results=True, yield_per=100).execute(
        text("SELECT sha256, size, data FROM payload ORDER BY sha256")
    )
    bad: list[tuple[str, str, str]] = []
    for sha256, size, data in rows:
        report.checked += 1
        report.bytes += int(size)
        problem = _check(sha256, int(size), bytes(data))
        if problem is not None:
            bad.append((sha256, *problem))
        if on_payload is not None:
            on_payload(report.checked)
    for sha256, kind, detail in bad:
        urls = connection.execute(
            text("SELECT url FROM capture WHERE payload_sha256 = :s ORDER BY id"), {"s": sha256}
        ).scalars()
        used = list(urls)
        report.mismatches.append(
            Mismatch(sha256, kind, detail, tuple(used[:_URLS_SHOWN]), len(used))
        )
    return report
