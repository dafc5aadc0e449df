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
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timezone
from functools import lru_cache
from itertools import accumulate
from operator import attrgetter
from typing import NamedTuple

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
# What makes a text run worth parsing: digits then a date separator (`2024-`, `11月`, `2024 年`,
# full-width digits too), a Chinese-numeral year (`二〇二四年`), a relative time (刚刚, 3小时前,
# 5分钟前, 昨天) or an English month (`Jan 5`). `_hinted` looks for these in all of a page's
# runs joined, each with a regex that starts with one literal character, which the regex engine
# finds at memchr speed, and a lookbehind for what must stand before it; a regex per hint run
# over each run (one starting with a character class) took 0.22 ms a page, these 0.12 ms.
# A separator after a digit or a space (spaces are walked back to a digit in Python).
_SEPARATOR_HINTS = tuple(
    re.compile(rf"{re.escape(c)}(?<=[\d\s]{re.escape(c)})") for c in "-/.年月－／．"
)
_WORD_HINTS = (
    re.compile("年(?<=[〇零○一二三四五六七八九]{2}年)"),
    re.compile("刚刚"),
    # `钟前` and `秒前`: `5分钟前` and `30秒前` have no 分/时/天 right before 前.
    re.compile("前(?<=[分时天钟秒]前)"),
    re.compile("天(?<=[昨前今]天)"),
)
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# Searched for only when a page has a month's name (`_MONTH_NAME`): it starts with a character
# class, tried at every character.
_MONTH_HINT = re.compile(rf"(?:{_MONTHS})[a-z]{{0,6}}\.?\s{{1,3}}\d")
_MONTH_NAME = re.compile(_MONTHS.encode())
# Joins the runs for `_hinted`: no hint can match it (not a digit, a space, a letter or any
# character the hints name), so no match spans two runs.
_SEPARATOR = "\0"
# Precisions that mean the page showed a time of day.
_TIMED = frozenset({"second", "minute", "hour"})
# The most a date adds to its place's terms: a time and a label.
_DATE_MOST = _HAS_TIME + max(_LABELLED, _ISSUE)
# A date read with a time of day has one of these in its text (`dates`: `19:15`, `7时30分`,
# `3点`, `刚刚`, `5分钟前`; full-width colons are narrowed).
_TIME_MARK = re.compile("[:：时点刚前]")

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
def _label_words(labels: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the labels, anywhere: where `_label_re` cannot match, this one does not."""
    return re.compile("|".join(re.escape(w) for w in labels), re.I)


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
    words = _label_words(tuple(labels))
    texts = measured.texts[:_MAX_RUNS]
    body_runs = _body_runs(measured, body, len(texts))
    read = dates.Reader(zone=zone, now=now, url=url, anchor=anchor).read
    spaced: dict[int, str] = {}  # runs with their spaces collapsed, each collapsed once
    places = [
        _place(index, texts[index][2], len(_spaced(texts, index, spaced)), title_run, body_runs)
        for index in _hinted([raw for raw, _, _ in texts])
    ]
    if trace is None:
        # Only the best date counts: the best-placed runs are read first, so that fewer runs
        # can still beat the best date found (an earlier run wins a tie, as in page order),
        # and a run whose place, time marks and labels keep it from winning is not read: 28
        # reads a corpus page -> 3, the same choice (traced, every run is read in page order).
        places.sort(key=attrgetter("base"), reverse=True)
    best: Candidate | None = None
    best_index = -1
    for index, base, terms, why in places:
        if trace is None and _beaten(base + _DATE_MOST, best):
            continue  # no date this run can hold would be chosen
        text = dates.narrow(spaced[index])
        # A date split over two runs (`<span>2024-11-06</span> <span>19:15</span>`).
        follow = _spaced(texts, index + 1, spaced) if index + 1 < len(texts) else ""
        joined = f"{text} {dates.narrow(follow)}"
        if trace is None:
            previous = _spaced(texts, index - 1, spaced) if index > 0 else ""
            if _beaten(base + _date_most(joined, text, previous, words), best):
                continue  # the run has no time, or no label, that a date could score with
        found = read(joined[: dates.MAX_INPUT])
        if found is None or found.raw not in joined:
            continue
        if now is None and anchor is None and not found.anchored:
            continue  # 昨天 or 11月6日 mean nothing without the fetch time
        start = joined.find(found.raw)
        before = text[:start] if start <= len(text) else text
        if not before.strip() and index > 0:
            before = _spaced(texts, index - 1, spaced)
        score = _HAS_TIME if found.precision in _TIMED else 0.0
        reasons = ["has a time"] if score else []
        if label.search(before[-12:]):
            score += _LABELLED
            reasons.append("after a label")
        elif found.precision == "month" and before.rstrip().endswith("》"):
            # `《北京之春》1998年3月号`: the issue of the periodical the article appeared in.
            score += _ISSUE
            reasons.append("the issue of a periodical")
        for term in terms:
            score += term
        reasons += why
        if trace is not None:
            trace.add("published_at", found.raw, "text", round(score, 1), ", ".join(reasons))
        if score >= _MIN_SCORE and (
            best is None or score > best.score or (score == best.score and index < best_index)
        ):
            best, best_index = Candidate(found, score, "text"), index
    return best


class _Place(NamedTuple):
    """What the place of a text run adds to the score of a date in it (`terms`), and why."""

    run: int  # its index
    # The sum of the terms and a slack for float sums taken in another order: a date in the
    # run scores at most this and what the date itself adds (`_DATE_MOST`, `_date_most`).
    base: float
    terms: list[float]  # in the order `visible` adds them, which makes its float sums the same
    why: list[str]


def _place(
    index: int,
    in_link: bool,
    length: int,
    title_run: int | None,
    body_runs: tuple[int, int] | None,
) -> _Place:
    """The place of run `index` (`length` characters)."""
    terms: list[float] = []
    why: list[str] = []
    if in_link:
        near = title_run is not None and 0 <= index - title_run <= _BYLINE_REACH
        if body_runs is not None and index >= body_runs[0]:
            near = False  # the byline is above the text
        terms.append(_IN_LINK / 2 if near else _IN_LINK)
        why.append("inside a link")
    if title_run is not None:
        distance = index - title_run
        if 0 <= distance <= 30:
            terms.append(_NEAR_TITLE - distance * 0.1)
            why.append(f"{distance} runs after the headline")
        elif -5 <= distance < 0:
            terms.append(1.0)
            why.append("just before the headline")
    if body_runs is not None:
        first, last = body_runs
        if first + 3 <= index <= last and length > _INFO_LINE:
            terms.append(_IN_BODY)
            why.append("inside the body's prose")
        elif first + 3 <= index <= last:
            why.append("inside the body, on a line of its own")
        elif last < index <= last + 25:
            terms.append(_AFTER_BODY)
            why.append("just after the body")
        elif index > last + 60:
            terms.append(_FAR_BELOW)
            why.append("far below the body")
    return _Place(index, sum(terms) + 1e-9, terms, why)


def _beaten(most: float, best: Candidate | None) -> bool:
    """True if a date scoring at most `most` cannot be chosen over `best` (or at all)."""
    return most <= best.score if best is not None else most < _MIN_SCORE


def _date_most(joined: str, text: str, previous: str, words: re.Pattern[str]) -> float:
    """The most that a date read from `joined` (run `text` and the next) adds to its place's
    terms: a time only if a time's mark is there, a label only if a label is in the run or the
    one before (`previous`), where `visible` looks for it."""
    most = _HAS_TIME if _TIME_MARK.search(joined) else 0.0
    if words.search(text) or words.search(previous):
        return most + _LABELLED
    return most + _ISSUE if "》" in text or "》" in previous else most


def _hinted(runs: list[str]) -> list[int]:
    """The indices of the runs that may hold a date (see `_SEPARATOR_HINTS`), in order."""
    joined = _SEPARATOR.join(runs)
    starts = list(accumulate([len(run) + 1 for run in runs], initial=0))
    hinted: set[int] = set()
    for hint in _SEPARATOR_HINTS:
        start = 0
        while (match := hint.search(joined, start)) is not None:
            before = match.start() - 1
            while before >= 0 and joined[before].isspace():  # what `\s` matches
                before -= 1
            if before >= 0 and joined[before].isdecimal():  # what `\d` matches
                run = bisect_right(starts, before) - 1
                hinted.add(run)
                start = starts[run + 1]  # one hint is enough: on to the next run
            else:
                start = match.end()
    words: tuple[re.Pattern[str], ...] = _WORD_HINTS
    # A month's name is ASCII: the page's ASCII characters, a fraction of it, show whether
    # it has one (0.065 ms a page for 12 `in` tests on the page, 0.03 for the regex alone).
    if _MONTH_NAME.search(joined.encode("ascii", "ignore")):
        words = (*words, _MONTH_HINT)
    for hint in words:
        start = 0
        while (match := hint.search(joined, start)) is not None:
            run = bisect_right(starts, match.start()) - 1
            hinted.add(run)
            start = starts[run + 1]
    return sorted(hinted)


def _spaced(texts: list[tuple[str, int, bool]], index: int, done: dict[int, str]) -> str:
    """Run `index`'s text with its spaces collapsed, from `done` if it is there."""
    text = done.get(index)
    if text is None:
        text = done[index] = " ".join(texts[index][0].split())
    return text


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
