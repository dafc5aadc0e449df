"""Publish times as Chinese pages write them, normalized to ISO-8601 with an offset.

Naive times are in the site's zone (+08:00 unless a rule says otherwise); UTC times are converted
to it. A date without a time is returned as the date alone (`2024-11-06`): inventing midnight would
be a lie that SQL users cannot tell from a real time. For the same reason a bare `2024年11月` is
`2024-11` with precision "month".

Forms, most trusted first (a later tier is tried only when no earlier one gives a date):

1. ISO-8601 with an explicit offset or `Z`: authoritative, see `parse_date`.
2. Dates with a year, leftmost first: `2024-11-06 19:15:32`, `2024年11月6日 下午3:15`,
   `19:15 2024/11/06`, `18-03-08 10:30`, `二〇二四年十一月六日`, with `GMT+8`, `(北京时间)` or
   `格林尼治标准时间10:41` annotations.
3. Dates without a year (`11月6日`, `11-06 19:15`): the year comes from the URL or from `now`.
4. A year and a month (`2024年11月`).
5. Relative to `now`: `刚刚`, `5分钟前`, `3小时前`, `2天前`, `昨天 10:30`, `今天`.

Every quantifier in the patterns below is bounded, so each regex is linear in its input, and the
input is cut to MAX_INPUT characters first (fault matrix row 33: ReDoS and bogus dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))

# Inputs are cut to this length before any regex runs (a 20,000-character "?" attribute must cost
# microseconds, not seconds).
MAX_INPUT = 256
# URLs are only searched for a date stamp, which sits in the first segments of the path.
_MAX_URL = 512
# Older "dates" on Chinese news pages are history in the text, not publish times.
_MIN_YEAR = 1990
# Clocks and zones differ: a page may seem up to this far ahead of the fetch.
_AHEAD = timedelta(days=2)

_FULLWIDTH = str.maketrans("０１２３４５６７８９：－／．＋", "0123456789:-/.+")
# Translating costs more than all the patterns together: only done when needed.
_WIDE = re.compile("[０-９：－／．＋]")


def narrow(text: str) -> str:
    """Full-width digits and separators as ASCII, the form `Found.raw` is reported in."""
    return text.translate(_FULLWIDTH) if _WIDE.search(text) else text


# Every date form needs an ASCII or full-width digit, a 年 (Chinese-numeral dates) or one of the
# relative words (刚刚, 今天/昨天/前天): text without any of them costs one scan.
_HINT = re.compile(r"[0-9０-９年刚天]")

# A time after a date: an optional weekday, 上午/下午 and friends, a zone named before the time
# (BBC: `格林尼治标准时间10:41`), hours and minutes (optionally seconds), AM/PM, and a zone named
# after the time (`GMT+8`, `UTC`, `(北京时间)`). A comma may come only before a weekday or a zone:
# in `11月6日，10时30分许，…` the time is the event's, in running text.
_TIME = (
    r"[\sT]{0,3}(?:[,，]?\s{0,2}[(（]?(?:星期|周|礼拜)[一二三四五六日天][)）]?[\s,，]{0,3})?"
    r"(?P<ampm>上午|下午|晚上|早上|凌晨|中午|傍晚)?\s{0,2}"
    r"(?:[,，]?\s{0,2}(?P<pre>格林尼治标准时间|GMT|UTC|北京时间)\s{0,2})?"
    r"(?<!\d)(?P<H>[01]?\d|2[0-3])\s{0,2}[:：时点]\s{0,2}(?P<M>[0-5]\d)(?!\d)"
    r"(?:\s{0,2}[:：分]\s{0,2}(?P<S>[0-5]\d)(?!\d)秒?|分)?"
    r"(?:\s{0,2}(?P<ap>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?"
    r"(?:\s{0,2}[(（]?(?:(?P<suf>GMT|UTC)(?P<off>[+-]\d{1,2}(?::?\d\d)?)?|(?P<bj>北京时间))[)）]?)?"
)
_OPT_TIME = rf"(?:{_TIME})?"

_ISO_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)[T ](?P<H>\d\d):(?P<M>\d\d)"
    r"(?::(?P<S>\d\d))?(?:\.\d{1,20})?\s{0,2}(?P<tz>Z|[+-]\d\d:?\d\d)"
)
# 2024-11-06, 2024/11/06, 2024.11.06, 2024年11月6日.
_YMD_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)\s{0,2}(?:[-/.]|年)\s{0,2}(?P<m>1[0-2]|0?[1-9])\s{0,2}"
    r"(?:[-/.]|月)\s{0,2}(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)\s{0,2}[日号]?" + _OPT_TIME
)
# 18-03-08 (baijiahao): two digits each and one separator, so that `1-2-3`, phone numbers and
# parts of longer dates (lookbehind) do not fire.
_YY_RE = re.compile(
    r"(?<![\d\-/.])(?<!\d:)(?P<y>\d\d)(?P<sep>[-/])(?P<m>0[1-9]|1[0-2])(?P=sep)"
    r"(?P<d>0[1-9]|[12]\d|3[01])(?![\d\-/.:])" + _OPT_TIME
)
_CN_DIGITS = "〇○零一二三四五六七八九"
# 二〇二四年十一月六日 (○ is the look-alike many pages type for 〇).
_CN_RE = re.compile(
    rf"(?<![{_CN_DIGITS}])(?P<y>[{_CN_DIGITS}]{{4}})\s{{0,2}}年\s{{0,2}}"
    r"(?P<m>十[一二]?|[一二三四五六七八九])\s{0,2}月\s{0,2}"
    r"(?P<d>[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s{0,2}[日号]" + _OPT_TIME
)
# Yearless dates. The lookbehinds (with up to two spaces) keep them from re-reading the end of a
# date whose year was rejected (`1899年11月6日`, `2099-11-06 10:00`).
_NOT_AFTER = r"(?<![\d年\-/.])(?<![\d年\-/.]\s)(?<![\d年\-/.]\s\s)"
_MD_RE = re.compile(
    _NOT_AFTER
    + r"(?P<m>1[0-2]|0?[1-9])\s{0,2}月\s{0,2}(?P<d>3[01]|[12]\d|0?[1-9])\s{0,2}[日号]"
    + _OPT_TIME
)
# `11-06 19:15` only with a time: a bare `11-06` is as likely a score, a range or an id.
_MD_DASH_RE = re.compile(
    _NOT_AFTER + r"(?P<m>0[1-9]|1[0-2])(?P<sep>[-/])(?P<d>0[1-9]|[12]\d|3[01])"
    r"(?![\d\-/.])" + _TIME
)
# 2024年11月 standing alone or as an issue (`1998年3月号`, `2024年11月刊`), ending the text or
# before a space or a closing bracket. In running text (`2024年4月全国CPI同比上涨`,
# `2022年1月，疫情再次…`) a year and month is what the story is about, not its date.
_YM_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)\s{0,2}年\s{0,2}(?P<m>1[0-2]|0?[1-9])\s{0,2}月"
    r"(?=[号刊]?(?:\Z|[\s)）\]】》」|｜]))"
)
# Relative forms. 刚刚 and a bare 今天/昨天/前天 are also ordinary words (`刚刚结束的会议`,
# `今天，国务院…`): alone they count only at the end of the text or before a space or a separator.
_REL_RE = re.compile(
    r"(?<!\d)(?P<n>\d{1,4})\s{0,2}(?P<unit>秒|分钟|小时|天)\s{0,2}前"
    rf"|(?P<word>[今昨前])[天日]{_TIME}"
    r"|(?P<bare>[今昨前]天|刚刚)(?![^\s|｜·/)）\]】])"
)
# A time written before its date (chinatimes: `19:15 2024/11/06`). Searched only in the few
# characters before a date that has no time of its own; the lookbehinds refuse the end of an
# earlier date or time (`2099-11-05 10:30 2024-11-06`, `10:20:15`).
_TIME_BEFORE = re.compile(
    r"(?<![\d\-/.年月日\s])(?<!\d:)\s{0,2}(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d)"
    r"(?::(?P<S>[0-5]\d))?(?:\s{0,2}(?P<ap>[AaPp][Mm]))?\s{1,3}\Z"
)
_TIME_BEFORE_REACH = 32
# A date stamp in a URL: /2024/1106/, /20241106/, /2024-11-06/, /2024/11/06/, t20241106_,
# content_2024-11/06/.
_URL_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)[-/_]?(?P<m>0[1-9]|1[0-2])[-/]?(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
)

# `_with_year`'s patterns, by (a `-` or `/` in the text) + 2 * (a 年 in it): the `in` tests
# spare most texts the patterns that cannot match them.
_WITH_YEAR = ((_YMD_RE,), (_YMD_RE, _YY_RE), (_YMD_RE, _CN_RE), (_YMD_RE, _YY_RE, _CN_RE))

_CN_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "○": 0}
_LATE = ("下午", "晚上", "傍晚")


@dataclass(frozen=True, slots=True)
class Found:
    """A publish time found in a string: ISO-8601 text, its precision and the raw match."""

    iso: str
    precision: str  # second, minute, hour (`3小时前`), day or month
    raw: str  # the matched text, as it stands in the input after full-width digits are narrowed
    # False when the date was read against `now` (刚刚, 昨天, or 11月6日 with no year in the URL):
    # without a real fetch time such a date says nothing.
    anchored: bool = True


def parse_date(
    text: str,
    *,
    zone: timezone = CHINA,
    now: datetime | None = None,
    url: str | None = None,
    anchor: date | None = None,
) -> Found | None:
    """The first plausible publish time in `text`, or None.

    `now` is the fetch time (default: the current time; a naive value is read in `zone`). Dates
    more than two days after it, or before 1990, are refused. `url` gives the year to a date shown
    without one when the URL carries a date stamp; else `anchor` (a date the page declares
    elsewhere, e.g. in metadata) does.

    >>> parse_date("銀行逾期 2024-11-06 19:15:32").iso
    '2024-11-06T19:15:32+08:00'
    """
    text = text[:MAX_INPUT]
    if not _HINT.search(text):
        return None
    return Reader(zone=zone, now=now, url=url, anchor=anchor).read(text)


class Reader:
    """`parse_date` for many texts read with the same zone, fetch time, URL and anchor.

    What does not depend on the text (the clock and the limit, the URL's date stamp) is worked
    out once: `published.visible` reads ~28 text runs a page with one reader.
    """

    __slots__ = ("_anchor", "_clock", "_limit", "_stamp", "_stamped", "_url", "_zone")

    def __init__(
        self,
        *,
        zone: timezone = CHINA,
        now: datetime | None = None,
        url: str | None = None,
        anchor: date | None = None,
    ) -> None:
        clock = now or datetime.now(UTC)
        self._clock = (clock if clock.tzinfo else clock.replace(tzinfo=zone)).astimezone(zone)
        self._limit = self._clock + _AHEAD
        self._zone = zone
        self._url = url
        self._anchor = anchor
        self._stamp: date | None = None
        self._stamped = False  # the URL is searched for its stamp when a yearless date needs it

    def read(self, text: str) -> Found | None:
        """What `parse_date(text, ...)` gives with this reader's arguments."""
        text = text[:MAX_INPUT]
        if not _HINT.search(text):
            return None
        if _WIDE.search(text):
            text = text.translate(_FULLWIDTH)
        zone, limit = self._zone, self._limit
        # An ISO time has both: the `in` tests spare most texts the search.
        iso = _ISO_RE.search(text) if "-" in text and ":" in text else None
        if iso:
            # An explicit offset is authoritative: if this moment is impossible or in the future,
            # the naive patterns below must not re-read the same digits as a local time.
            return _from_iso(iso, zone, limit)
        return (
            _with_year(text, zone, limit)
            or _latin(text, zone, limit)
            or self._yearless(text)
            or _year_month(text, limit)
            or _relative(text, zone, self._clock)
        )

    def _yearless(self, text: str) -> Found | None:
        """The leftmost valid `11月6日` or `11-06 19:15`, its year taken from the URL, the anchor
        date or `now`."""
        # Cheap `in` tests spare the patterns most text runs (a page has hundreds).
        dash = ":" in text and ("-" in text or "/" in text)
        if "月" in text:
            patterns = (_MD_RE, _MD_DASH_RE) if dash else (_MD_RE,)
        elif dash:
            patterns = (_MD_DASH_RE,)
        else:
            return None
        if not self._stamped:
            self._stamp = (_url_date(self._url) if self._url else None) or self._anchor
            self._stamped = True
        stamp, clock, zone, limit = self._stamp, self._clock, self._zone, self._limit
        best: tuple[int, Found] | None = None  # (start, found): the leftmost valid date so far
        for pattern in patterns:
            for match in pattern.finditer(text):
                if best is not None and match.start() >= best[0]:
                    break
                month, day = int(match["m"]), int(match["d"])
                found = None
                for year in _years(month, day, stamp, clock):
                    found = _found(text, match, _date(year, month, day), zone, limit)
                    if found is not None:
                        break
                if found is not None:
                    if best is None or found[0] < best[0]:
                        best = found
                    break
        if best is None:
            return None
        if stamp is None:
            return replace(best[1], anchored=False)  # the year is a guess from `now`
        return best[1]


def _from_iso(match: re.Match[str], zone: timezone, limit: datetime) -> Found | None:
    tz = match["tz"]
    try:
        offset = UTC if tz == "Z" else _offset(tz)
        moment = datetime(
            int(match["y"]), int(match["m"]), int(match["d"]),
            int(match["H"]), int(match["M"]), int(match["S"] or 0), tzinfo=offset,
        )  # fmt: skip
    except ValueError:
        return None
    if moment.year < _MIN_YEAR or moment > limit:
        return None
    precision = "second" if match["S"] else "minute"
    return Found(_format(moment.astimezone(zone), precision), precision, match[0])


def _with_year(text: str, zone: timezone, limit: datetime) -> Found | None:
    """The leftmost valid date that states its year, whatever its form."""
    best: tuple[int, Found] | None = None  # (start, found): the leftmost valid date so far
    for pattern in _WITH_YEAR[("-" in text or "/" in text) + 2 * ("年" in text)]:
        for match in pattern.finditer(text):
            if best is not None and match.start() >= best[0]:
                break
            year, month, day = _ymd(pattern, match)
            if year < _MIN_YEAR:
                continue
            found = _found(text, match, _date(year, month, day), zone, limit)
            if found is not None:
                if best is None or found[0] < best[0]:
                    best = found
                break
    return best[1] if best else None


def _ymd(pattern: re.Pattern[str], match: re.Match[str]) -> tuple[int, int, int]:
    if pattern is _CN_RE:
        year = int("".join(str(_CN_VALUE[c]) for c in match["y"]))
        return year, _cn_number(match["m"]), _cn_number(match["d"])
    year = int(match["y"])
    if pattern is _YY_RE:
        # The usual pivot for two-digit years (POSIX strptime %y).
        year += 2000 if year < 70 else 1900
    return year, int(match["m"]), int(match["d"])


def _cn_number(numeral: str) -> int:
    """一 to 三十一 (months and days)."""
    tens, ten, units = numeral.partition("十")
    if not ten:
        return _CN_VALUE[numeral]
    return (_CN_VALUE[tens] if tens else 1) * 10 + (_CN_VALUE[units] if units else 0)


def _date(year: int, month: int, day: int) -> date | None:
    """The calendar date, or None for 2024-02-30 and the like."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _found(
    text: str, match: re.Match[str], day: date | None, zone: timezone, limit: datetime
) -> tuple[int, Found] | None:
    """The match as (start, Found), with a time written before the date if it has none."""
    if day is None:
        return None
    start, end = match.span()
    if match["H"] is not None:
        built = _at(day, match, zone)
    else:
        before = _TIME_BEFORE.search(text, max(0, start - _TIME_BEFORE_REACH), start)
        if before is None:
            built = (datetime(day.year, day.month, day.day, tzinfo=zone), "day")
        else:
            start = before.start("H")
            built = _at(day, before, zone)
    if built is None or built[0] > limit:
        return None
    moment, precision = built
    raw = text[start:end].strip()
    return start, Found(_format(moment, precision), precision, raw)


def _at(day: date, match: re.Match[str], zone: timezone) -> tuple[datetime, str] | None:
    """The moment a date and its time groups stand for, in `zone`; None if impossible."""
    groups = match.groupdict()
    try:
        shown = _shown_zone(groups, zone)
    except ValueError:
        return None
    hour = _hour(int(groups["H"]), groups.get("ampm"), groups["ap"])
    second = int(groups["S"] or 0)
    moment = datetime(day.year, day.month, day.day, hour, int(groups["M"]), second, tzinfo=shown)
    return moment.astimezone(zone), "second" if groups["S"] else "minute"


def _shown_zone(groups: dict[str, str | None], zone: timezone) -> timezone:
    """The zone a time is written in: the site's, unless the page names one."""
    if groups.get("pre") == "北京时间" or groups.get("bj"):
        return CHINA
    if groups.get("pre") or groups.get("suf"):
        # 格林尼治标准时间, GMT and UTC alone mean +00:00.
        off = groups.get("off")
        return _offset(off) if off else UTC
    return zone


def _hour(hour: int, ampm: str | None, latin: str | None) -> int:
    if ampm in _LATE and hour < 12:
        hour += 12
    elif ampm == "中午" and hour < 11:
        hour += 12  # 中午1点 is 13:00, 中午11:30 and 中午12:30 stay
    elif ampm == "凌晨" and hour == 12:
        hour = 0
    if latin and hour <= 12:
        # `19:15PM` is a 24-hour time with a stray suffix: ignored above 12.
        pm = latin[0] in "Pp"
        if pm and hour < 12:
            hour += 12
        elif not pm and hour == 12:
            hour = 0
    return hour


def _years(month: int, day: int, stamp: date | None, clock: datetime) -> list[int]:
    """Years to try, best first, for a date shown without one."""
    if stamp is None:
        # This year, or last year if that puts the date in the future (a December story
        # fetched in January); `_found` refuses the future.
        return [clock.year, clock.year - 1]
    # The year that puts the date nearest the URL's stamp (a page stamped 2024-12-31 may
    # show 01-01 00:10 of 2025).
    near = [y for y in (stamp.year - 1, stamp.year, stamp.year + 1) if _date(y, month, day)]
    return sorted(near, key=lambda y: abs((date(y, month, day) - stamp).days))[:1]


def _url_date(url: str) -> date | None:
    for match in _URL_DATE.finditer(url[:_MAX_URL]):
        stamp = _date(int(match["y"]), int(match["m"]), int(match["d"]))
        if stamp is not None and stamp.year >= _MIN_YEAR:
            return stamp
    return None


# Dates in English or in the US order, as ASP defaults and blog templates print them:
# `7/5/2005 9:23:57 PM`, `Saturday, September 10th, 2005 10:56 am`, `Dec 28 Sat 2013 00:28`.
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_CLOCK = (
    r"(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d))?"
    r"(?:\s{0,2}(?P<ap>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?"
)
_US_RE = re.compile(
    r"(?<![\d/])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])/(?P<y>(?:19|20)\d\d)(?![\d/])"
    rf"(?:\s{{1,3}}{_CLOCK})?"
)
_EN_RE = re.compile(
    r"\b(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s{1,3}"
    r"(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?,?\s{1,3}"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6},?\s{1,3})?(?P<y>(?:19|20)\d\d)(?!\d)"
    rf"(?:,?\s{{0,3}}(?:at\s{{1,2}})?{_CLOCK})?",
    re.I,
)


# An ASCII letter: what an English month name needs (a regex finds it 20x faster than testing
# each character in Python).
_ASCII_LETTER = re.compile("[A-Za-z]")


def _latin(text: str, zone: timezone, limit: datetime) -> Found | None:
    if "/" not in text and not _ASCII_LETTER.search(text):
        return None
    for pattern in (_US_RE, _EN_RE):
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groupdict()
        month = int(groups["m"]) if "m" in groups else _MONTHS.index(groups["mon"][:3].lower()) + 1
        day = _date(int(match["y"]), month, int(match["d"]))
        if day is None or day.year < _MIN_YEAR:
            continue
        if match["H"] is None:
            moment = datetime(day.year, day.month, day.day, tzinfo=zone)
            precision = "day"
        else:
            hour = _hour(int(match["H"]), None, match["ap"])
            moment = datetime(
                day.year, day.month, day.day, hour, int(match["M"]), int(match["S"] or 0),
                tzinfo=zone,
            )  # fmt: skip
            precision = "second" if match["S"] else "minute"
        if moment <= limit:
            return Found(_format(moment, precision), precision, match[0].strip())
    return None


def _year_month(text: str, limit: datetime) -> Found | None:
    if "年" not in text:
        return None
    for match in _YM_RE.finditer(text):
        year, month = int(match["y"]), int(match["m"])
        if year >= _MIN_YEAR and date(year, month, 1) <= limit.date():
            return Found(f"{year:04d}-{month:02d}", "month", match[0])
    return None


def _relative(text: str, zone: timezone, clock: datetime) -> Found | None:
    if not ("前" in text or "天" in text or "刚" in text or "日" in text):
        return None
    match = _REL_RE.search(text)
    if match is None:
        return None
    raw = match[0].strip()
    if match["bare"] == "刚刚":
        return Found(_format(clock, "minute"), "minute", raw, anchored=False)
    if match["bare"] or match["word"]:
        back = "今昨前".index((match["bare"] or match["word"])[0])
        day = clock.date() - timedelta(days=back)
        if match["bare"]:
            return Found(day.isoformat(), "day", raw, anchored=False)
        built = _at(day, match, zone)
        return Found(_format(*built), built[1], raw, anchored=False) if built else None
    count, unit = int(match["n"]), match["unit"]
    if unit == "天":
        return Found((clock.date() - timedelta(days=count)).isoformat(), "day", raw, anchored=False)
    # 秒前 and 分钟前 are as good as a minute; N小时前 means somewhere in that hour.
    step, precision = {
        "秒": (timedelta(seconds=count), "minute"),
        "分钟": (timedelta(minutes=count), "minute"),
        "小时": (timedelta(hours=count), "hour"),
    }[unit]
    return Found(_format(clock - step, precision), precision, raw, anchored=False)


def _format(moment: datetime, precision: str) -> str:
    # One shape for every time (seconds included, :00 when the page shows minutes) so that SQL
    # users can sort and compare the column as text; `Found.precision` says what was shown.
    if precision == "day":
        return moment.date().isoformat()
    if precision != "second":
        moment = moment.replace(second=0, microsecond=0)
    return moment.isoformat(timespec="seconds")


def _offset(value: str) -> timezone:
    """`+08:00`, `+0800`, `+08` or `+8` as a zone; ValueError beyond ±14:00."""
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    if int(hours) > 14 or int(minutes) >= 60:
        raise ValueError(f"offset out of range: {value}")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
