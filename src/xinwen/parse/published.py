"""The publish time: metadata, scripts and visible dates, weighed against each other.

Every date in the page's text is a candidate. A candidate scores for carrying a time, for
standing right after a label such as 发布时间, and for being near the headline; it loses for
sitting in a link (related-article lists) or far below the body (comments). Metadata
(`article:published_time`, JSON-LD) is trusted, except that a visible time of the same day
refines a metadata date that has no time, and wins over a metadata time of the same day
(portals stamp metadata with the last edit, the page shows the publish time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timezone
from functools import lru_cache

from . import dates
from ._tree import Measured
from .trace import Trace

# Weights calibrated as a set on the corpus (bench/extract.py, "time to the minute"): moving one
# alone moves few pages.
_HAS_TIME = 2.0
_LABELLED = 4.0
_NEAR_TITLE = 4.0
_IN_LINK = -4.0
_IN_BODY = -2.0
_AFTER_BODY = 1.0
_FAR_BELOW = -3.0
_MIN_SCORE = 2.0
# Runs after the headline within which a date in a link, above the text, is a byline's: a
# byline block made a link to the author's page (ifeng) sits there, related lists do not. 3
# corpus pages get their time (to the minute 91.2% -> 92.5%), none loses it (5 to 8 alike).
_BYLINE_REACH = 5
# A month after a periodical's name in 《》 dates a reprinted magazine article: 3 corpus pages
# whose only date is that line get it (to the minute 92.5% -> 93.8%), none changes otherwise.
_ISSUE = 2.0
# A date inside the body's element loses only when it is part of the prose (a run longer than
# this): forums and blogs keep the post's own line (`本贴由 X 于2005年8月12日16:12:21发表`,
# `发表于 2005/05/17 22:11:42`) inside the text's container. Evidence (bench/extract.py): 4
# corpus pages get their time (to the minute 89.4% -> 91.2%), none loses it; 40 fixes 3.
_INFO_LINE = 60
# Runs scanned for candidates: the first this many text runs of the page.
_MAX_RUNS = 4000
# Cheap test for a text run worth parsing (`_date_hint`): digits with a date separator, a
# Chinese-numeral year, a relative time (刚刚, 3小时前, 昨天) or an English month. Full-width
# digits count too. One regex per form: each starts with a character (class) that the regex
# engine skips to at C speed, where one alternation of them all was tried at every character
# (0.4 -> 0.23 ms a page).
_DIGITS_HINT = re.compile(r"[\d０-９][\d０-９]{0,3}\s*[-/.年月－／．]")
_CN_YEAR_HINT = re.compile(r"[〇零○一二三四五六七八九]{2,4}年")
# `钟前` and `秒前`: `5分钟前` and `30秒前` have no 分/时/天 right before 前.
_AGO_HINT = re.compile(r"[分时天钟秒]前")
_DAY_HINT = re.compile(r"[昨前今]天")
_MONTH_HINT = re.compile(
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?\s{1,3}\d"
)
# Precisions that mean the page showed a time of day.
_TIMED = frozenset({"second", "minute", "hour"})

_SCRIPT_DATE = re.compile(
    r"""["']?(?:publish_?time|pub_?time|pubdate|publish_?date|datePublished|createTime|ct)["']?"""
    r"""\s*[:=]\s*["']?(\d{10}|\d{4}-\d{1,2}-\d{1,2}[ T]?\d{0,2}:?\d{0,2}:?\d{0,2})""",
    re.I,
)
# `_SCRIPT_DATE.search` over a whole page takes 8 ms per corpus page (it runs on the 28 pages
# without a visible or declared date): case-insensitive, it is tried at every character. The
# keys, lower-cased, each behind a literal prefix that the regex engine finds at C speed, give
# the places where it can match (key, separator, digit: a necessary condition), leftmost first;
# `_SCRIPT_DATE` decides at each. 0.8 ms, most of it `str.lower`.
_SCRIPT_KEYS = tuple(
    re.compile(key + r"""["']?\s*[:=]\s*["']?\d""")
    for key in (r"pub(?:lish_?time|_?time|date|lish_?date)", "datepublished", "createtime", "ct")
)
# Characters that re.IGNORECASE matches to a key's letters but str.lower() does not lower to
# them (ı and ſ; İ lowers to two characters, which the length check catches).
_ODD_CASE = ("ı", "ſ")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A publish time found somewhere in the page, with its weight."""

    found: dates.Found
    score: float
    where: str


@lru_cache(maxsize=64)
def _label_re(labels: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?:{words})\s*[:：]?\s*$", re.I)


def visible(
    measured: Measured,
    title_run: int | None,
    body: int | None,
    labels: list[str],
    zone: timezone,
    trace: Trace | None = None,
    *,
    url: str | None = None,
    now: datetime | None = None,
    anchor: date | None = None,
) -> Candidate | None:
    """The best-scoring date in the page's text, if any scores enough.

    `body` is the index of the body's element in `measured`, if the body is known. `url` and
    `now` (the fetch time) resolve dates without a year and relative ones; so does
    `anchor`, a date the page declares elsewhere (an update time in its metadata).
    """
    label = _label_re(tuple(labels))
    texts = measured.texts[:_MAX_RUNS]
    body_runs = _body_runs(measured, body, len(texts))
    best: Candidate | None = None
    for index, (raw, _, in_link) in enumerate(texts):
        if not _date_hint(raw):
            continue
        text = dates.narrow(" ".join(raw.split()))
        # A date split over two runs (`<span>2024-11-06</span> <span>19:15</span>`).
        follow = " ".join(texts[index + 1][0].split()) if index + 1 < len(texts) else ""
        joined = f"{text} {dates.narrow(follow)}"
        found = dates.parse_date(
            joined[: dates.MAX_INPUT], zone=zone, url=url, now=now, anchor=anchor
        )
        if found is None or found.raw not in joined:
            continue
        if now is None and anchor is None and not found.anchored:
            continue  # 昨天 or 11月6日 mean nothing without the fetch time
        start = joined.find(found.raw)
        before = text[:start] if start <= len(text) else text
        if not before.strip() and index > 0:
            before = " ".join(texts[index - 1][0].split())
        score = _HAS_TIME if found.precision in _TIMED else 0.0
        reasons = ["has a time"] if score else []
        if label.search(before[-12:]):
            score += _LABELLED
            reasons.append("after a label")
        elif found.precision == "month" and before.rstrip().endswith("》"):
            # `《北京之春》1998年3月号`: the issue of the periodical the article appeared in.
            score += _ISSUE
            reasons.append("the issue of a periodical")
        if in_link:
            near = title_run is not None and 0 <= index - title_run <= _BYLINE_REACH
            if body_runs is not None and index >= body_runs[0]:
                near = False  # the byline is above the text
            score += _IN_LINK / 2 if near else _IN_LINK
            reasons.append("inside a link")
        if title_run is not None:
            distance = index - title_run
            if 0 <= distance <= 30:
                score += _NEAR_TITLE - distance * 0.1
                reasons.append(f"{distance} runs after the headline")
            elif -5 <= distance < 0:
                score += 1.0
                reasons.append("just before the headline")
        if body_runs is not None:
            first, last = body_runs
            if first + 3 <= index <= last and len(text) > _INFO_LINE:
                score += _IN_BODY
                reasons.append("inside the body's prose")
            elif first + 3 <= index <= last:
                reasons.append("inside the body, on a line of its own")
            elif last < index <= last + 25:
                score += _AFTER_BODY
                reasons.append("just after the body")
            elif index > last + 60:
                score += _FAR_BELOW
                reasons.append("far below the body")
        if trace is not None:
            trace.add("published_at", found.raw, "text", round(score, 1), ", ".join(reasons))
        if score >= _MIN_SCORE and (best is None or score > best.score):
            best = Candidate(found, score, "text")
    return best


def _date_hint(text: str) -> bool:
    """True if `text` may hold a date (see `_DIGITS_HINT`)."""
    return bool(
        _DIGITS_HINT.search(text)
        or ("年" in text and _CN_YEAR_HINT.search(text))
        or "刚刚" in text
        or ("前" in text and _AGO_HINT.search(text))
        or ("天" in text and _DAY_HINT.search(text))
        or _MONTH_HINT.search(text)
    )


def _body_runs(measured: Measured, body: int | None, runs: int) -> tuple[int, int] | None:
    """The first and the last of the first `runs` text runs that are in the body, if any."""
    if body is None:
        return None
    first, end = measured.runs_start[body], min(measured.runs_end[body], runs)
    return (first, end - 1) if first < end else None


def from_scripts(html: str, zone: timezone) -> Candidate | None:
    """A publish time assigned in an inline script (`var publish_time = "..."`, `ct = 1581...`)."""
    match = _script_date(html)
    if match is None:
        return None
    value = match.group(1)
    if value.isdigit():
        moment = datetime.fromtimestamp(int(value), tz=UTC).astimezone(zone)
        if moment > datetime.now(UTC):
            return None
        found = dates.Found(moment.isoformat(timespec="seconds"), "second", value)
        return Candidate(found, 0.0, "script")
    parsed = dates.parse_date(value, zone=zone)
    return Candidate(parsed, 0.0, "script") if parsed else None


def _script_date(html: str) -> re.Match[str] | None:
    """The match that `_SCRIPT_DATE.search(html)` finds (same group), found faster.

    See `_SCRIPT_KEYS`. A match that starts with a quote is returned from the key after it.
    """
    lowered = html.lower()
    if len(lowered) != len(html) or any(c in lowered for c in _ODD_CASE):
        return _SCRIPT_DATE.search(html)
    first = len(html)  # the leftmost place where _SCRIPT_DATE matches, so far
    for key in _SCRIPT_KEYS:
        start = 0
        while (place := key.search(lowered, start)) is not None and place.start() < first:
            if _SCRIPT_DATE.match(html, place.start()):
                first = place.start()
                break
            start = place.start() + 1
    return _SCRIPT_DATE.match(html, first) if first < len(html) else None


def choose(meta: Candidate | None, seen: Candidate | None) -> Candidate | None:
    """Reconcile a metadata time with the best visible one."""
    if meta is None:
        return seen
    if seen is None:
        return meta
    same_day = meta.found.iso[:10] == seen.found.iso[:10]
    if same_day and seen.found.precision in _TIMED:
        return seen
    return meta
