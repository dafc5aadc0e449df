"""`xinwen export`: JSONL and CSV records as `parse` prints them, WARC that warcio accepts."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from xinwen import Archive, extract
from xinwen.cli import app
from xinwen.fetch import USER_AGENT

runner = CliRunner()
WARCIO = Path(sys.executable).parent / "warcio"


def test_jsonl_is_the_record_parse_prints(small_archive: Path, small_pages: list[tuple[str, str]]):
    result = runner.invoke(app, ["export", "--db", str(small_archive)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [extract(html, url).model_dump() for url, html in small_pages]
    assert "央行宣布降准" in result.stdout  # UTF-8, not \u-escaped


def test_csv_has_the_record_keys_and_the_body(
    small_archive: Path, small_pages: list[tuple[str, str]], tmp_path: Path
):
    out = tmp_path / "articles.csv"
    result = runner.invoke(app, ["export", "-f", "csv", "--db", str(small_archive), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"url,site,title,")  # no BOM
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    expected, short = (extract(html, url).model_dump() for url, html in small_pages[:2])
    assert "sections" not in rows[0]
    assert set(rows[0]) == set(expected) - {"sections"}
    assert rows[0]["body"] == expected["body"] and rows[0]["title"] == "央行宣布降准"
    assert json.loads(rows[1]["flags"]) == short["flags"] == ["short_body"]
    assert len(rows) == len(small_pages)
    assert "wrote 3 articles" in result.stderr


def test_filters_are_parameters(small_archive: Path):
    def urls(*args: str) -> list[str]:
        result = runner.invoke(app, ["export", "--db", str(small_archive), *args])
        assert result.exit_code == 0, result.output
        return [json.loads(line)["url"] for line in result.stdout.splitlines()]

    assert urls("--site", "x' OR 1=1 --") == []
    assert urls("--site", "tw.example.org") == ["https://tw.example.org/n/3.html"]
    assert urls("--since", "2999-01-01") == []  # published on or after


def test_export_usage_errors_touch_nothing(tmp_path: Path, small_archive: Path):
    missing = tmp_path / "nope.db"
    result = runner.invoke(app, ["export", "--db", str(missing)])
    assert result.exit_code == 2 and str(missing) in result.output
    assert not missing.exists()
    out = tmp_path / "x.warc.gz"
    result = runner.invoke(app, ["export", "-f", "warc", "--db", str(small_archive),
                                 "--since", "last week", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 2 and "--since" in result.output
    assert not out.exists()  # a failed export leaves no partial file


def _captures(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT url, final_url, payload_sha256 FROM capture ORDER BY id"
        ).fetchall()


def test_warc_passes_warcio_check_and_round_trips_every_capture(
    small_archive: Path, tmp_path: Path
):
    out = tmp_path / "archive.warc.gz"
    result = runner.invoke(
        app, ["export", "-f", "warc", "--db", str(small_archive), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    check = subprocess.run([str(WARCIO), "check", "-v", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout

    with out.open("rb") as stream:
        records = [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]
    assert records[0][0] == "warcinfo"
    requests = [r for r in records if r[0] == "request"]
    answers = [r for r in records if r[0] in ("response", "revisit")]
    captures = _captures(small_archive)
    assert len(requests) == len(answers) == len(captures) == 5

    first: dict[str, tuple[str, str, str]] = {}  # sha256 -> uri, date, payload digest
    with Archive(small_archive) as archive:
        for (kind, warc, http, body), (_url, final_url, sha256) in zip(
            answers, captures, strict=True
        ):
            assert warc.get_header("WARC-Target-URI") == final_url
            if sha256 not in first:
                assert kind == "response"
                assert body == archive.payload(sha256)  # the exact bytes
                assert http.get_header("Content-Length") == str(len(body))
                first[sha256] = (
                    final_url,
                    warc.get_header("WARC-Date"),
                    warc.get_header("WARC-Payload-Digest"),
                )
            else:
                assert kind == "revisit"
                uri, date, digest = first[sha256]
                assert warc.get_header("WARC-Profile").endswith("/identical-payload-digest")
                assert warc.get_header("WARC-Refers-To-Target-URI") == uri
                assert warc.get_header("WARC-Refers-To-Date") == date
                assert warc.get_header("WARC-Payload-Digest") == digest
    assert len(first) == 4  # the unchanged re-fetch repeated one payload
    assert [kind for kind, *_ in answers].count("revisit") == 1
    for _kind, warc, http, _body in requests:
        assert http.get_header("User-Agent") == USER_AGENT
        assert http.get_header("Host") in warc.get_header("WARC-Target-URI")


def test_warc_headers_match_the_stored_bytes(small_archive: Path, tmp_path: Path):
    out = tmp_path / "archive.warc"
    result = runner.invoke(
        app, ["export", "-f", "warc", "--db", str(small_archive), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"WARC/1.1\r\n")  # a .warc name: no gzip
    with out.open("rb") as stream:
        listing = next(
            r for r in ArchiveIterator(stream) if r.rec_type == "response"
            and r.rec_headers.get_header("WARC-Target-URI") == "https://news.example.com/"
        )  # fmt: skip
        body = listing.content_stream().read()
        http = listing.http_headers
    assert body.startswith(b"<html>")
    assert http.get_header("content-encoding") is None  # httpx had already decoded it
    assert http.get_header("transfer-encoding") is None
    assert http.get_header("Content-Length") == str(len(body))
    assert http.get_statuscode() == "200"


def test_warc_since_is_the_fetch_time(small_archive: Path, tmp_path: Path):
    def written(since: str) -> str:
        out = tmp_path / "since.warc.gz"
        args = [
            "export",
            "-f",
            "warc",
            "--db",
            str(small_archive),
            "--since",
            since,
            "-o",
            str(out),
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "wrote 5 captures" in written("2020-01-01T08:00+08:00")
    assert "wrote 0 captures" in written("2999-01-01")
