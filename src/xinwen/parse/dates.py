"""Publish times as Chinese pages write them, normalized to ISO-8601 with an offset.

Naive times are in the site's zone (+08:00 unless a rule says otherwise); UTC times are converted
to it. A date without a time is returned as the date alone (`2024-11-06`): inventing midnight would
be a lie that SQL users cannot tell from a real time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))

# Inputs are cut to this length before any regex runs (a 20,000-character "?" attribute must cost
# microseconds, not seconds).
MAX_INPUT = 256

_FULLWIDTH = str.maketrans("０１２３４５６７８９：－／．", "0123456789:-/.")

_ISO_RE = re.compile(
    r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)[T ](?P<H>\d\d):(?P<M>\d\d)(?::(?P<S>\d\d))?"
    r"(?:\.\d+)?\s*(?P<tz>Z|[+-]\d\d:?\d\d)"
)
_DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*(?:[-/.]|年)\s*(?P<m>1[0-2]|0?[1-9])\s*(?:[-/.]|月)\s*"
    r"(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)\s*日?"
    r"(?:[\sT]*(?P<ampm>上午|下午|晚上|早上|凌晨|中午)?\s*(?P<H>[01]?\d|2[0-3])\s*[:：时]\s*"
    r"(?P<M>[0-5]\d)(?:\s*[:：分]\s*(?P<S>[0-5]\d))?)?"
)


@dataclass(frozen=True, slots=True)
class Found:
    """A publish time found in a string: ISO-8601 text, its precision and the raw match."""

    iso: str
    precision: str  # day, minute or second
    raw: str


def _format(moment: datetime, precision: str) -> str:
    # One shape for every time (seconds included, :00 when the page shows minutes) so that SQL
    # users can sort and compare the column as text; `Found.precision` says what was shown.
    if precision == "day":
        return moment.date().isoformat()
    return moment.isoformat(timespec="seconds")


def _hour(hour: int, ampm: str | None) -> int:
    if ampm in ("下午", "晚上") and hour < 12:
        return hour + 12
    if ampm == "中午" and hour < 11:
        return hour + 12
    if ampm == "凌晨" and hour == 12:
        return 0
    return hour


def parse_date(text: str, *, zone: timezone = CHINA, now: datetime | None = None) -> Found | None:
    """The first plausible publish time in `text`, or None.

    >>> parse_date("銀行逾期 2024-11-06 19:15:32").iso
    '2024-11-06T19:15:32+08:00'
    """
    text = text[:MAX_INPUT].translate(_FULLWIDTH)
    limit = (now or datetime.now(UTC)) + timedelta(days=2)
    match = _ISO_RE.search(text)
    if match:
        # An explicit offset is authoritative: if this moment is impossible or in the future,
        # the naive pattern below must not re-read the same digits as a local time.
        tz = match["tz"]
        offset = UTC if tz == "Z" else _offset(tz)
        try:
            moment = datetime(
                int(match["y"]), int(match["m"]), int(match["d"]),
                int(match["H"]), int(match["M"]), int(match["S"] or 0), tzinfo=offset,
            )  # fmt: skip
        except ValueError:
            return None
        if moment > limit:
            return None
        precision = "second" if match["S"] else "minute"
        return Found(_format(moment.astimezone(zone), precision), precision, match[0])
    for match in _DATE_RE.finditer(text):
        try:
            day = date(int(match["y"]), int(match["m"]), int(match["d"]))
            if match["H"] is None:
                moment = datetime(day.year, day.month, day.day, tzinfo=zone)
                precision = "day"
            else:
                hour = _hour(int(match["H"]), match["ampm"])
                second = int(match["S"] or 0)
                moment = datetime(
                    day.year, day.month, day.day, hour, int(match["M"]), second, tzinfo=zone
                )
                precision = "second" if match["S"] else "minute"
        except ValueError:
            continue
        if moment <= limit:
            return Found(_format(moment, precision), precision, match[0].strip())
    return None


def _offset(value: str) -> timezone:
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))
