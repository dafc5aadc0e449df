"""Publish times as Chinese pages write them, normalized to ISO-8601 with an offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from xinwen.parse.dates import MAX_INPUT, parse_date

# A fixed "now", well after every date below, so that no test depends on the clock.
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("2024-11-06 19:15:32", "2024-11-06T19:15:32+08:00", "second"),
        ("发布时间：2024-11-06 19:15:32 来源：新华社", "2024-11-06T19:15:32+08:00", "second"),
        ("2024年11月6日 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024年11月06日19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024年11月6日 19时15分", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024年11月6日 19时15分32秒", "2024-11-06T19:15:32+08:00", "second"),
        ("2024-1-6 9:05", "2024-01-06T09:05:00+08:00", "minute"),
        ("2024/11/06 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024/11/06", "2024-11-06", "day"),
        ("2024.11.06", "2024-11-06", "day"),
        ("2024年11月6日", "2024-11-06", "day"),
        ("时间：2024-11-06 阅读：1024", "2024-11-06", "day"),
        # Full-width digits and punctuation.
        ("２０２４年１１月６日　１９：１５", "2024-11-06T19:15:00+08:00", "minute"),
        ("２０２４－１１－０６", "2024-11-06", "day"),
        # 上午/下午 and friends.
        ("2024年11月6日 下午3:15", "2024-11-06T15:15:00+08:00", "minute"),
        ("2024年11月6日下午3时15分", "2024-11-06T15:15:00+08:00", "minute"),
        ("2024年11月6日 上午9:15", "2024-11-06T09:15:00+08:00", "minute"),
        ("2024年11月6日 晚上8:30", "2024-11-06T20:30:00+08:00", "minute"),
        ("2024年11月6日 中午12:30", "2024-11-06T12:30:00+08:00", "minute"),
        ("2024年11月6日 下午12:30", "2024-11-06T12:30:00+08:00", "minute"),
        ("2024年11月6日 凌晨12:30", "2024-11-06T00:30:00+08:00", "minute"),
        ("2024年11月6日 凌晨2:30", "2024-11-06T02:30:00+08:00", "minute"),
        # Explicit zones are converted to the site's zone.
        ("2024-11-06T11:15:32Z", "2024-11-06T19:15:32+08:00", "second"),
        ("2024-11-06T19:15:32+00:00", "2024-11-07T03:15:32+08:00", "second"),
        ("2024-11-06T19:15:32+08:00", "2024-11-06T19:15:32+08:00", "second"),
        ("2024-11-06T19:15:32.123+08:00", "2024-11-06T19:15:32+08:00", "second"),
        ("2024-11-06T19:15:32+0800", "2024-11-06T19:15:32+08:00", "second"),
        ("2024-11-06T06:15:32-05:00", "2024-11-06T19:15:32+08:00", "second"),
        ("2024-11-06T11:15Z", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-05T23:30:00Z", "2024-11-06T07:30:00+08:00", "second"),
    ],
)
def test_parse_date(text, iso, precision):
    found = parse_date(text, now=NOW)
    assert found is not None
    assert found.iso == iso
    assert found.precision == precision


def test_raw_is_the_matched_text():
    found = parse_date("来源：新华社 2024-11-06 19:15:32 阅读 1024", now=NOW)
    assert found is not None
    assert found.raw == "2024-11-06 19:15:32"


def test_site_zone():
    tokyo = timezone(timedelta(hours=9))
    naive = parse_date("2024-11-06 19:15", zone=tokyo, now=NOW)
    utc = parse_date("2024-11-06T10:15:00Z", zone=tokyo, now=NOW)
    assert naive is not None
    assert naive.iso == "2024-11-06T19:15:00+09:00"
    assert utc is not None
    assert utc.iso == "2024-11-06T19:15:00+09:00"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "暂无日期",
        "阅读 1024 次",
        "20241106",  # a bare number, e.g. in an article id
        "2024-13-01",
        "2024-00-10",
        "2024-02-30",
        "2023-02-29",
        "2024-11-32",
        "2024年2月30日 10:00",
        "1899-11-06",
    ],
)
def test_no_date(text):
    assert parse_date(text, now=NOW) is None


def test_leap_day_is_valid():
    found = parse_date("2024-02-29", now=NOW)
    assert found is not None
    assert found.iso == "2024-02-29"


def test_invalid_date_is_skipped_for_a_later_valid_one():
    found = parse_date("2024-02-30 更新于 2024-03-01", now=NOW)
    assert found is not None
    assert found.iso == "2024-03-01"


@pytest.mark.parametrize("text", ["2024-02-30T10:00:00Z", "2024-11-31T10:00:00+08:00"])
def test_invalid_iso_date_with_zone(text):
    assert parse_date(text, now=NOW) is None


@pytest.mark.parametrize(
    "text", ["2025-01-04", "2025年1月4日 08:00", "2025-01-04T00:00:00Z", "2099-11-06 19:15:32"]
)
def test_future_dates_are_rejected(text):
    # More than two days after `now`.
    assert parse_date(text, now=NOW) is None


@pytest.mark.parametrize("text", ["2025-01-02 10:00", "2024-12-31T23:00:00Z", "2025-01-02"])
def test_near_future_is_tolerated(text):
    # Clocks and zones differ: up to two days ahead is accepted.
    assert parse_date(text, now=NOW) is not None


def test_future_date_is_skipped_for_a_past_one():
    found = parse_date("活动时间：2099-01-01 发布时间：2024-11-06", now=NOW)
    assert found is not None
    assert found.iso == "2024-11-06"


def test_future_utc_time_is_not_reread_as_local_time():
    # 2025-01-03T01:00Z is 2 days and 1 hour after NOW: too far ahead. Read as +08:00 it would
    # be 2025-01-02T17:00Z, within the limit, but that is not the time the page states.
    assert parse_date("2025-01-03T01:00:00Z", now=NOW) is None


def test_redos_guard_cuts_long_input():
    # The date lies beyond the cut, so it is not seen; this must also return quickly.
    assert parse_date("?" * 20000 + "2024-11-06", now=NOW) is None


def test_date_just_inside_the_cut_is_found():
    text = "?" * (MAX_INPUT - len("2024-11-06")) + "2024-11-06"
    found = parse_date(text, now=NOW)
    assert found is not None
    assert found.iso == "2024-11-06"


def test_date_just_beyond_the_cut_is_not_found():
    assert parse_date("?" * (MAX_INPUT - len("2024-11-06") + 1) + "2024-11-06", now=NOW) is None
