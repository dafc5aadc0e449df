"""`xinwen verify`: a flipped byte in a stored raw body is found (fault matrix row 47).

Like `warcio check` (test_check_invalid, test_digests_mutilate): the archive is damaged on
purpose, one byte of one payload, and the command must name that payload, and only it, and exit 1.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import zstandard
from typer.testing import CliRunner

from xinwen import Archive
from xinwen.cli import app

runner = CliRunner()


def _payloads(db: Path) -> dict[str, bytes]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT sha256, data FROM payload ORDER BY sha256"))


def _store(db: Path, sha256: str, data: bytes) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE payload SET data = ? WHERE sha256 = ?", (data, sha256))


def _verify(db: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["verify", "--db", str(db)])
    return result.exit_code, result.stdout, result.stderr


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_an_intact_archive_passes(small_archive: Path):
    code, out, err = _verify(small_archive)
    payloads = _payloads(small_archive)
    assert len(payloads) == 4  # three articles and a listing; the repeated page is stored once
    assert code == 0 and err == ""
    assert out.startswith(f"checked {len(payloads)} payloads (") and out.endswith("all match\n")


def test_one_flipped_byte_in_a_body_is_named(small_archive: Path):
    payloads = _payloads(small_archive)
    victim = sorted(payloads)[1]
    body = zstandard.ZstdDecompressor().decompress(payloads[victim])
    # The stored body with one bit changed, compressed again: a valid frame, the wrong bytes.
    _store(small_archive, victim, zstandard.ZstdCompressor().compress(_flip(body, len(body) // 2)))
    code, out, err = _verify(small_archive)
    assert code == 1
    [line] = out.splitlines()
    assert line.startswith(f"{victim}: digest: the bytes hash to ")
    assert "https://" in line or "http://" in line  # the captured URL, to fetch it again
    assert all(other not in out for other in payloads if other != victim)
    assert err == "checked 4 payloads (0.0 MB): 1 does not match\n"


@pytest.mark.parametrize("where", ["middle", "end"])
def test_one_flipped_byte_in_the_compressed_blob_is_found(small_archive: Path, where: str):
    payloads = _payloads(small_archive)
    victim = sorted(payloads)[0]
    blob = payloads[victim]
    _store(small_archive, victim, _flip(blob, len(blob) // 2 if where == "middle" else -1))
    code, out, _ = _verify(small_archive)
    assert code == 1
    [line] = out.splitlines()
    # Depending on the byte, zstd refuses the frame or yields other bytes: named either way.
    problem = line.split(": ")[1]
    assert line.startswith(victim) and problem in ("digest", "size", "undecodable"), line


def test_library_report(small_archive: Path):
    payloads = _payloads(small_archive)
    victim = sorted(payloads)[2]
    _store(small_archive, victim, b"not zstd at all")
    seen: list[int] = []
    with Archive(small_archive) as archive:
        report = archive.verify(on_payload=seen.append)
    assert report.checked == 4 and seen == [1, 2, 3, 4] and not report.ok
    [bad] = report.mismatches
    assert bad.sha256 == victim and bad.problem == "undecodable" and bad.captures >= 1


def test_a_missing_archive_is_a_usage_error_and_not_created(tmp_path: Path):
    missing = tmp_path / "nope.db"
    code, _, err = _verify(missing)
    assert code == 2 and str(missing) in err and not missing.exists()
