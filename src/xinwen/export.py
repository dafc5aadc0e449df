"""`xinwen export`: the archive's articles as JSONL or CSV, its raw captures as WARC 1.1.

JSONL has one record per line, exactly as `xinwen parse` prints it (docs/schema.md). CSV has the
same keys as columns, minus `sections` (the body already holds the headings and paragraphs);
`extracted_by` and `flags` are JSON text in their cells.

The WARC file (written with warcio, gzip per record unless asked otherwise) starts with a
`warcinfo` record, then has for each capture a `response` and a synthesized `request` record (GET
with Host and xinwen's User-Agent), under the URL that answered (after redirects) and dated when
it was fetched. The response is rebuilt from what the archive keeps: the status, the stored
headers and the body bytes. Those bytes are the decoded body (httpx removed the transport's
gzip), so `Content-Encoding` and `Transfer-Encoding` are left out and `Content-Length` is the
stored size. A capture whose body repeats one already written in the same file is a `revisit`
record (profile identical-payload-digest) pointing at the first.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from . import __version__
from .errors import ConfigError
from .fetch import USER_AGENT
from .record import Article
from .report import json_text, utf8_text
from .store import Archive
from .store.export import StoredCapture, articles, captures

__all__ = ["FORMATS", "export", "write_csv", "write_jsonl", "write_warc"]

FORMATS = ("jsonl", "csv", "warc")
# The record's keys as CSV columns; sections are in the body already.
CSV_COLUMNS = tuple(name for name in Article.model_fields if name != "sections")
# Response headers that described the bytes on the wire, not the decoded bytes we keep.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_WARC_INFO = {
    "software": f"xinwen/{__version__} (warcio)",
    "format": "WARC File Format 1.1",
    "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
    "description": "HTTP responses rebuilt from a xinwen archive: stored status, headers and"
    " decoded body (Content-Encoding and Transfer-Encoding removed); requests synthesized",
}


def parse_since(value: str | None) -> datetime | None:
    """`--since` as a UTC datetime: an ISO date or time; without an offset it is read as UTC."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since: not an ISO date or time: {value!r}") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def write_jsonl(records: Iterator[Article], out: IO[bytes]) -> int:
    """One JSON record per line (UTF-8); returns how many."""
    count = 0
    for article in records:
        out.write(json_text(article.model_dump()).encode() + b"\n")
        count += 1
    return count


def write_csv(records: Iterator[Article], out: IO[bytes]) -> int:
    """A header row of `CSV_COLUMNS`, then one row per article (UTF-8, no BOM); returns how many."""
    count = 0
    with utf8_text(out) as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        for article in records:
            record = article.model_dump()
            writer.writerow(_csv_cell(record[name]) for name in CSV_COLUMNS)
            count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json_text(value)
    return "" if value is None else value


def _one_line(text: str) -> str:
    # A stored header value with CR or LF would split the WARC record's header block.
    return text.replace("\r", " ").replace("\n", " ")


def _response_head(capture: StoredCapture, size: int) -> StatusAndHeaders:
    try:
        reason = HTTPStatus(capture.status).phrase
    except ValueError:
        reason = ""
    headers = [
        (_one_line(name), _one_line(value))
        for name, value in capture.headers.items()
        if name.lower() not in _WIRE_HEADERS
    ]
    headers.append(("Content-Length", str(size)))
    return StatusAndHeaders(f"{capture.status} {reason}".strip(), headers, protocol="HTTP/1.1")


def _request_head(uri: str, user_agent: str) -> StatusAndHeaders:
    parts = urlsplit(uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rsplit("@", 1)[-1]
    headers = [("Host", host), ("User-Agent", user_agent)]
    return StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)


def _warc_date(when: datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(when, use_micros=True))


@dataclass(frozen=True, slots=True)
class _First:
    """The response record a revisit points at."""

    uri: str
    date: str
    record_id: str
    payload_digest: str
    size: int


def write_warc(
    archive: Archive,
    out: IO[bytes],
    *,
    since: datetime | None = None,
    site: str | None = None,
    gzip: bool = True,
    filename: str = "",
    user_agent: str = USER_AGENT,
) -> int:
    """Write the captures as WARC 1.1 records; returns how many captures were written."""
    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(filename, _WARC_INFO))
    first: dict[str, _First] = {}
    count = 0
    for capture in captures(archive, since=since, site=site):
        uri = capture.final_url
        date = _warc_date(capture.fetched_at)
        earlier = first.get(capture.payload_sha256)
        if earlier is None:
            body = archive.payload(capture.payload_sha256)
            response = writer.create_warc_record(
                uri,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=_response_head(capture, len(body)),
                warc_headers_dict={"WARC-Date": date},
            )
            get = response.rec_headers.get_header
            first[capture.payload_sha256] = _First(
                uri, date, get("WARC-Record-ID"), get("WARC-Payload-Digest"), len(body)
            )
        else:
            response = writer.create_revisit_record(
                uri,
                digest=earlier.payload_digest,
                refers_to_uri=earlier.uri,
                refers_to_date=earlier.date,
                http_headers=_response_head(capture, earlier.size),
                warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": earlier.record_id},
            )
        request = writer.create_warc_record(
            uri,
            "request",
            http_headers=_request_head(uri, user_agent),
            warc_headers_dict={"WARC-Date": date},
        )
        writer.write_request_response_pair(request, response)
        count += 1
    return count


def export(
    db: str | Path,
    fmt: str,
    out: IO[bytes],
    *,
    since: str | None = None,
    site: str | None = None,
    filename: str = "",
) -> int:
    """Export an archive (`xinwen export`); returns the number of articles or captures written.

    For `jsonl` and `csv`, `since` keeps articles published on or after it; for `warc`, captures
    fetched on or after it (UTC unless it has an offset). A `.warc` `filename` is written
    without gzip; any other name, and standard output, get gzip per record (`.warc.gz`).

    >>> with open("out.jsonl", "wb") as out:   # doctest: +SKIP
    ...     export("xinwen.db", "jsonl", out, site="demo")
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    start = parse_since(since)
    with Archive(db, must_exist=True) as archive:
        if fmt == "warc":
            gzip = not filename.endswith(".warc")
            return write_warc(
                archive, out, since=start, site=site, gzip=gzip, filename=Path(filename).name
            )
        records = articles(archive, since=since, site=site)
        return write_jsonl(records, out) if fmt == "jsonl" else write_csv(records, out)
