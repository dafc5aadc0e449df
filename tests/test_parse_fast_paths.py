"""The extractor's fast paths give the answers of the plain code they replace."""

from __future__ import annotations

import pytest

from xinwen.parse import published

SCRIPTS = [
    'var publish_time = "2024-11-06 19:15:32";',
    "<script>var PubDate='2019-3-5';</script>",
    '{"datePublished": "2020-01-02T08:00:00"}',
    "x = {CT: 1581234567, ct: 1500000000}",
    # A key without a date first: the next place that matches wins.
    "var pubtime = now(); var PUB_TIME = '2021-07-08 09:10';",
    # A quote before the key: the match starts at the quote, the date is the same.
    "{'createTime' : '2018-05-06'}",
    "select { ct : 1; } function(){ct=1234567890}",
    '<div data-ct="2022-02-03">',
    "no date here at all, only act = 12 and ct: x",
    # Characters that re.IGNORECASE folds onto key letters.
    "var publıshtime = '2017-01-01'; ct = 1400000000",
    "var pubdate = 'x'; ſ publiſh_date = '2016-02-02'",
    "İ var pubDate = '2015-03-03'",
    "",
]


@pytest.mark.parametrize("html", SCRIPTS)
def test_script_date_finds_what_the_plain_search_finds(html: str) -> None:
    plain = published._SCRIPT_DATE.search(html)
    fast = published._script_date(html)
    assert (fast.group(1) if fast else None) == (plain.group(1) if plain else None)


def test_script_date_takes_the_leftmost_key_across_key_families() -> None:
    html = "ct = 1600000000; createTime = '2001-01-01'; ct = 1700000000"
    match = published._script_date(html)
    assert match is not None and match.group(1) == "1600000000"
    later = "createTime = '2001-01-01'; ct = 1700000000"
    match = published._script_date(later)
    assert match is not None and match.group(1) == "2001-01-01"
