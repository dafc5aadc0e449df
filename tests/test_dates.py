"""Publish times as Chinese pages write them, normalized to ISO-8601 with an offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from xinwen.parse.dates import CHINA, MAX_INPUT, Reader, parse_date

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


# --- the forms Chinese pages use ------------------------------------------------------------
# Every expected value below was worked out by hand from the input string and NOW
# (2025-01-01T00:00Z = 2025-01-01T08:00+08:00, so the future limit is 2025-01-03T08:00+08:00).


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("2024年11月6日 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 19:15:32", "2024-11-06T19:15:32+08:00", "second"),
        ("2024/11/06", "2024-11-06", "day"),
        ("2024.11.06", "2024-11-06", "day"),
        ("2024年11月06日19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024年11月6号", "2024-11-06", "day"),
        ("2024年11月6日 19点15分", "2024-11-06T19:15:00+08:00", "minute"),
        # Time first (chinatimes).
        ("19:15 2024/11/06", "2024-11-06T19:15:00+08:00", "minute"),
        ("中时新闻网 19:15 2024/11/06 阅读", "2024-11-06T19:15:00+08:00", "minute"),
        ("时间:19:15 2024/11/06", "2024-11-06T19:15:00+08:00", "minute"),
        ("10:20:15 2024-11-06", "2024-11-06T10:20:15+08:00", "second"),
        # Latin AM/PM: ignored above 12, applied up to 12.
        ("2024-11-06 19:15PM", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 23:10 AM", "2024-11-06T23:10:00+08:00", "minute"),
        ("2024-11-06 07:15PM", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 7:15 pm", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 7:15 p.m.", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 11:15 AM", "2024-11-06T11:15:00+08:00", "minute"),
        ("2024-11-06 12:10 AM", "2024-11-06T00:10:00+08:00", "minute"),
        ("2024-11-06 12:10 PM", "2024-11-06T12:10:00+08:00", "minute"),
        # Full-width digits.
        ("２０２４年１１月６日", "2024-11-06", "day"),
        ("２０２４/１１/０６ １９：１５：３２", "2024-11-06T19:15:32+08:00", "second"),
        # 上午/下午 and friends.
        ("2024年11月6日 中午12:30", "2024-11-06T12:30:00+08:00", "minute"),
        ("2024年11月6日 中午11:30", "2024-11-06T11:30:00+08:00", "minute"),
        ("2024年11月6日 中午1:30", "2024-11-06T13:30:00+08:00", "minute"),
        ("2024年11月6日 下午12:30", "2024-11-06T12:30:00+08:00", "minute"),
        ("2024年11月6日 下午15:00", "2024-11-06T15:00:00+08:00", "minute"),
        ("2024年11月6日 凌晨12:10", "2024-11-06T00:10:00+08:00", "minute"),
        ("2024年11月6日 傍晚6:20", "2024-11-06T18:20:00+08:00", "minute"),
        ("2024年11月6日 早上7:05", "2024-11-06T07:05:00+08:00", "minute"),
        # A weekday between the date and the time.
        ("2005年08月30日, 星期二 13:22", "2005-08-30T13:22:00+08:00", "minute"),
        ("2024年11月6日（星期三）19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 周三 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        # A time after a comma in running text is the event's, not the page's.
        ("2024年11月6日，10时30分许，某地发生", "2024-11-06", "day"),
        # BBC style label, a date inside a sentence.
        ("本贴由 大卫 于2005年8月12日16:12:21在", "2005-08-12T16:12:21+08:00", "second"),
        # Chinese numerals.
        ("二〇二四年十一月六日", "2024-11-06", "day"),
        ("二零二四年十一月六日", "2024-11-06", "day"),
        ("二○二四年十一月六日", "2024-11-06", "day"),
        ("二〇二四年十月十日", "2024-10-10", "day"),
        ("二〇二四年一月二十三日", "2024-01-23", "day"),
        ("二〇二四年十二月三十一日", "2024-12-31", "day"),
        ("二〇二四年三月十一日", "2024-03-11", "day"),
        ("一九九五年五月二十日", "1995-05-20", "day"),
        ("落款 二〇二四年十一月二十日 19:15", "2024-11-20T19:15:00+08:00", "minute"),
        # Two-digit years (baijiahao), only as YY-MM-DD or YY/MM/DD.
        ("18-03-08", "2018-03-08", "day"),
        ("18-03-08 10:30", "2018-03-08T10:30:00+08:00", "minute"),
        ("发布时间：18-03-08 23:16", "2018-03-08T23:16:00+08:00", "minute"),
        ("18/03/08", "2018-03-08", "day"),
        ("00-01-01", "2000-01-01", "day"),
        ("99-12-31", "1999-12-31", "day"),
        # Zones named on the page.
        ("2024-11-06 19:15 GMT+8", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 19:15 (UTC+08:00)", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 11:15 GMT", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 11:15 UTC", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024-11-06 06:15 GMT-5", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024年11月6日 19:15（北京时间）", "2024-11-06T19:15:00+08:00", "minute"),
        ("2024年11月6日 北京时间19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("更新时间 2012年12月10日, 格林尼治标准时间10:41", "2012-12-10T18:41:00+08:00", "minute"),
        ("2012年12月10日 格林尼治标准时间20:41", "2012-12-11T04:41:00+08:00", "minute"),
        ("2012-12-10 GMT 10:41", "2012-12-10T18:41:00+08:00", "minute"),
        ("2024-11-06T19:15:32.1234567890123+08:00", "2024-11-06T19:15:32+08:00", "second"),
        # A year and a month only.
        ("2024年11月", "2024-11", "month"),
        ("《北京之春》1998年3月号", "1998-03", "month"),
        ("2025年1月", "2025-01", "month"),
        ("2024年11月刊 第3期", "2024-11", "month"),
        ("《求是》（2024年11月）", "2024-11", "month"),
        # A date with its year beats a relative one, wherever each stands.
        ("3小时前 转载自 2024-11-05", "2024-11-05", "day"),
    ],
)
def test_chinese_forms(text, iso, precision):
    found = parse_date(text, now=NOW)
    assert found is not None, text
    assert (found.iso, found.precision) == (iso, precision)


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("中时新闻网 19:15 2024/11/06 阅读", "19:15 2024/11/06"),
        ("来源：人民网 2024年11月6日（星期三）19:15 阅读", "2024年11月6日（星期三）19:15"),
        ("《北京之春》1998年3月号", "1998年3月"),
        ("发布时间：01-14 17:58 来源", "01-14 17:58"),
        ("更新于 5分钟前", "5分钟前"),
        # Full-width digits are narrowed before matching; raw is the narrowed text.
        ("日期：２０２４年１１月６日", "2024年11月6日"),
    ],
)
def test_raw_of_each_form(text, raw):
    found = parse_date(text, now=NOW)
    assert found is not None
    assert found.raw == raw


@pytest.mark.parametrize(
    "text",
    [
        # Copyright lines and lone years: a year alone is no date.
        "© 2024",
        "Copyright 2004-2024",
        "Copyright © 2004-2024 新华网 版权所有",
        "2024",
        "2024年",
        # Before 1990, in any form.
        "1989-06-04",
        "1989年6月4日",
        "一九八九年六月四日",
        "89-06-04",
        "1989年6月",
        # A year and month inside a sentence is its subject, not its date.
        "2024年4月全国CPI同比上涨0.3%",
        "2024年11月的数据显示",
        "2022年1月，疫情再次袭击",
        # Future, in any form.
        "2026年1月1日",
        "二〇九九年一月一日",
        "69-01-01",
        "2025年2月",
        # Impossible days.
        "二〇二四年二月三十日",
        "二〇二四年十一月三十九日",
        "11月31日",
        # Not two-digit years: single digits, phone numbers, impossible months.
        "1-2-3",
        "18-3-8",
        "010-6512-3456",
        "电话：0755-8888-1234",
        "12-34-56",
        # The end of a date whose year was refused is not re-read without its year.
        "1899年11月6日",
        "1899年 11月6日 10:00",
        "2099-11-06 19:15",
        # A month and day with a dash need a time: alone they are scores, ranges, ids.
        "11-06",
        "比分 3-1",
        # An impossible offset.
        "2024-11-06T19:15:32+99:00",
        "2024-11-06 19:15 GMT+99",
        # Relative words in running text.
        "今天，国务院常务会议",
        "刚刚结束的会议",
        "昨天发布的数据",
    ],
)
def test_not_a_publish_date(text):
    assert parse_date(text, now=NOW) is None


def test_time_of_a_refused_date_is_not_borrowed():
    # 10:30 belongs to the future date, not to the next one.
    found = parse_date("2099-11-05 10:30 2024-11-06", now=NOW)
    assert found is not None
    assert (found.iso, found.precision) == ("2024-11-06", "day")


def test_site_zone_with_beijing_time_annotation():
    tokyo = timezone(timedelta(hours=9))
    found = parse_date("2024年11月6日 19:15（北京时间）", zone=tokyo, now=NOW)
    assert found is not None
    assert found.iso == "2024-11-06T20:15:00+09:00"


# --- dates without a year -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        # NOW's year, 2025, puts these more than 2 days ahead: the previous year.
        ("11月6日", "2024-11-06", "day"),
        ("11-06 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("11/06 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("11月6日 19:15", "2024-11-06T19:15:00+08:00", "minute"),
        ("11月6日 下午3:15", "2024-11-06T15:15:00+08:00", "minute"),
        ("发布时间：01-14 17:58", "2024-01-14T17:58:00+08:00", "minute"),
        ("12月31日 23:00", "2024-12-31T23:00:00+08:00", "minute"),
        # Within 2 days of NOW: this year.
        ("1月1日", "2025-01-01", "day"),
        ("1月2日", "2025-01-02", "day"),
        # 2025-01-03T09:00+08:00 is an hour past the limit: the previous year.
        ("1月3日 09:00", "2024-01-03T09:00:00+08:00", "minute"),
        # 2025 has no 29 February.
        ("2月29日", "2024-02-29", "day"),
    ],
)
def test_yearless_dates_take_the_year_of_now(text, iso, precision):
    found = parse_date(text, now=NOW)
    assert found is not None
    assert (found.iso, found.precision) == (iso, precision)


@pytest.mark.parametrize(
    "url",
    [
        "http://paper.people.com.cn/rmrb/html/2023/1106/nw.D110000renmrb_20231106_1-01.htm",
        "http://news.example.cn/20231106/123.html",
        "https://finance.sina.com.cn/roll/2023-11-06/doc-ihqfskcn2160999.shtml",
        "https://www.example.com/2023/11/06/story.html",
        "http://www.gov.cn/zhengce/content/202311/t20231106_123.html",
        "http://www.example.cn/content_2023-11/06/content_1.htm",
    ],
)
def test_yearless_date_takes_the_year_of_the_url(url):
    found = parse_date("11月6日 19:15", now=NOW, url=url)
    assert found is not None
    assert found.iso == "2023-11-06T19:15:00+08:00"


@pytest.mark.parametrize(
    ("text", "url", "iso"),
    [
        # The year that puts the date nearest the URL's stamp, across New Year both ways.
        ("01-01 00:10", "https://x.cn/2024-12-31/a.html", "2025-01-01T00:10:00+08:00"),
        ("12月31日", "https://x.cn/2025/0101/a.html", "2024-12-31"),
        # No date in the URL: the year of NOW.
        ("11月6日", "https://news.ifeng.com/c/7kQcQG2peWU", "2024-11-06"),
        # A date that states its year ignores the URL.
        ("2022-05-01", "https://x.cn/20231106/a.html", "2022-05-01"),
    ],
)
def test_year_from_url_edge_cases(text, url, iso):
    found = parse_date(text, now=NOW, url=url)
    assert found is not None
    assert found.iso == iso


def test_yearless_date_from_a_url_in_the_future_is_refused():
    # The URL says 2025-11-06, ten months after NOW.
    assert parse_date("11月6日", now=NOW, url="https://x.cn/20251106/a.html") is None


# --- relative to the fetch time -------------------------------------------------------------

# 2024-11-06T02:47:31Z is 10:47:31 in +08:00.
FETCHED = datetime(2024, 11, 6, 2, 47, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("刚刚", "2024-11-06T10:47:00+08:00", "minute"),
        ("发布于 刚刚", "2024-11-06T10:47:00+08:00", "minute"),
        ("30秒前", "2024-11-06T10:47:00+08:00", "minute"),
        ("5分钟前", "2024-11-06T10:42:00+08:00", "minute"),
        ("58分钟前", "2024-11-06T09:49:00+08:00", "minute"),
        ("3小时前", "2024-11-06T07:47:00+08:00", "hour"),
        ("26小时前", "2024-11-05T08:47:00+08:00", "hour"),
        ("2天前", "2024-11-04", "day"),
        ("昨天 10:30", "2024-11-05T10:30:00+08:00", "minute"),
        ("昨天10:30", "2024-11-05T10:30:00+08:00", "minute"),
        ("前天 08:00", "2024-11-04T08:00:00+08:00", "minute"),
        ("今天 09:15", "2024-11-06T09:15:00+08:00", "minute"),
        ("今日 09:15", "2024-11-06T09:15:00+08:00", "minute"),
        ("昨天 下午3:15", "2024-11-05T15:15:00+08:00", "minute"),
        ("昨天", "2024-11-05", "day"),
        ("更新于昨天", "2024-11-05", "day"),
        ("前天 | 来源：新华社", "2024-11-04", "day"),
    ],
)
def test_relative_dates(text, iso, precision):
    found = parse_date(text, now=FETCHED)
    assert found is not None, text
    assert (found.iso, found.precision) == (iso, precision)


def test_relative_dates_count_days_in_the_site_zone():
    # 2024-12-31T20:00Z is already 2025-01-01T04:00 in +08:00.
    now = datetime(2024, 12, 31, 20, 0, tzinfo=UTC)
    found = {text: parse_date(text, now=now) for text in ("昨天", "2天前", "今天 09:15")}
    assert {text: f and f.iso for text, f in found.items()} == {
        "昨天": "2024-12-31",
        "2天前": "2024-12-30",
        "今天 09:15": "2025-01-01T09:15:00+08:00",
    }


def test_relative_date_in_another_site_zone():
    tokyo = timezone(timedelta(hours=9))
    found = parse_date("5分钟前", zone=tokyo, now=FETCHED)
    assert found is not None
    assert found.iso == "2024-11-06T11:42:00+09:00"


def test_naive_now_is_read_in_the_site_zone():
    found = parse_date("昨天 10:30", now=datetime(2024, 11, 6, 10, 47))  # noqa: DTZ001
    assert found is not None
    assert found.iso == "2024-11-05T10:30:00+08:00"


# --- hostile input (fault matrix row 33) ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "?" * 20000,
        "2024年" * 50000,
        "1" * 100000,
        "十" * 50000,
        "2024-" * 50000,
        "1:" * 50000,
        "11月" * 50000,
        "18-03-" * 50000,
        " " * 100000,
        "二〇二四年十" * 10000,
        "19:15 " * 20000,
        "昨天" * 50000,
    ],
)
def test_hostile_input_is_answered(text):
    # Only that it returns: the input is cut to MAX_INPUT and every pattern is linear.
    found = parse_date(text, now=NOW, url=text)
    assert found is None or found.raw in text[:MAX_INPUT]


# --- Relative dates in a page: read against the fetch time, or not at all --------------------


def _relative_page() -> str:
    body = "<p>" + "国务院常务会议今天召开，部署进一步稳定经济的一揽子政策措施。" * 5 + "</p>"
    return (
        "<html><head><title>国常会部署稳经济措施_新闻</title></head><body>"
        "<h1>国常会部署稳经济措施</h1><div class=info>发布时间：昨天 10:30</div>"
        f"<div class=content>{body}</div></body></html>"
    )


def test_relative_date_uses_the_fetch_time():
    from xinwen.parse import extract as parse_extract

    fetched = datetime(2024, 11, 7, 9, 0, tzinfo=CHINA)
    extracted = parse_extract(_relative_page(), "https://news.example.com/a.html", now=fetched)
    assert extracted.published_at == "2024-11-06T10:30:00+08:00"


@pytest.mark.parametrize(
    ("shown", "iso"),
    [
        ("5分钟前", "2024-11-07T08:55:00+08:00"),
        ("30秒前", "2024-11-07T08:59:00+08:00"),
        ("3小时前", "2024-11-07T06:00:00+08:00"),
        ("2天前", "2024-11-05"),
    ],
)
def test_relative_ago_in_a_page_uses_the_fetch_time(shown: str, iso: str):
    from xinwen.parse import extract as parse_extract

    html = _relative_page().replace("昨天 10:30", shown)
    fetched = datetime(2024, 11, 7, 9, 0, tzinfo=CHINA)
    extracted = parse_extract(html, "https://news.example.com/a.html", now=fetched)
    assert (extracted.published_at, extracted.published_raw) == (iso, shown)


def test_relative_date_without_a_fetch_time_is_not_guessed():
    from xinwen import extract

    article = extract(_relative_page().encode(), url="https://news.example.com/a.html")
    assert article.published_at is None
    assert "date_missing" in article.flags


# --- US order and English month names (ASP defaults, blog templates) ------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("发布日期： 7/5/2005 9:23:57 PM", "2005-07-05T21:23:57+08:00"),
        ("发布日期：9/17/2004 5:54:13 AM", "2004-09-17T05:54:13+08:00"),
        ("Saturday, September 10th, 2005 10:56 am", "2005-09-10T10:56:00+08:00"),
        ("Dec 28 Sat 2013 00:28", "2013-12-28T00:28:00+08:00"),
        ("Thursday, July 28, 2011", "2011-07-28"),
        ("posted 12/25/2019", "2019-12-25"),
    ],
)
def test_latin_dates(text: str, iso: str):
    found = parse_date(text, now=NOW)
    assert found is not None
    assert found.iso == iso


@pytest.mark.parametrize("text", ["1/2/3", "13/25/2019", "Decimal 28 2013", "2/30/2024"])
def test_latin_non_dates(text: str):
    assert parse_date(text, now=NOW) is None


def test_yearless_date_takes_its_year_from_an_anchor():
    from datetime import date

    found = parse_date("发布时间：10-08 12:00", now=NOW, anchor=date(2019, 10, 8))
    assert found is not None
    assert found.iso == "2019-10-08T12:00:00+08:00"
    assert found.anchored


def test_metadata_update_time_anchors_a_yearless_visible_date():
    from xinwen import extract

    body = "<p>" + "英国一名女子在殡仪馆工作多年后转行，成为一名职业美人鱼表演者。" * 5 + "</p>"
    html = (
        '<html><head><meta itemprop="dateUpdate" content="2019-10-08 12:00:57">'
        "<title>转行当美人鱼_百家号</title></head><body><h1>转行当美人鱼</h1>"
        "<div><span>发布时间：10-08</span><span>12:00</span></div>"
        f"<div class=article>{body}</div></body></html>"
    )
    assert extract(html.encode()).published_at == "2019-10-08T12:00:00+08:00"


# --- A date on a line of its own inside the text's container ----------------------------------


def test_a_post_line_inside_the_text_container_dates_the_post():
    # Forums keep the post's own line inside the container of the text; a date quoted in the
    # prose is not the publish time.
    from xinwen import extract

    prose = (
        "<p>" + "据报道，该项目于2003年7月24日正式立项，此后多次调整方案，进展顺利。" * 3 + "</p>"
    )
    html = (
        "<html><head><title>心灵体操</title></head><body><div class=post>"
        "<h2>谈谈焦虑的来源与应对</h2>"
        + prose * 2
        + "<p>本贴由 大卫 于2005年8月12日16:12:21在〖心灵体操〗发表</p>"
        + prose
        + "</div></body></html>"
    )
    article = extract(html.encode(), url="http://bbs.example.cn/post.asp?id=1")
    assert article.published_at == "2005-08-12T16:12:21+08:00"


def test_a_byline_made_a_link_dates_the_article():
    from xinwen import extract

    prose = (
        "<p>" + "心理咨询师提醒，焦虑情绪需要及时疏导，家长要多陪伴孩子，耐心倾听。" * 4 + "</p>"
    )
    html = (
        "<html><head><title>如何疏导焦虑_资讯</title></head><body><h1>如何疏导焦虑</h1>"
        "<div><a href=https://share.example.cn/home?cid=916093><p>心理咨询师熊玲</p>"
        "<p>2018/03/05 09:53</p></a></div>"
        f"<div class=text>{prose}</div><ul class=related>"
        + "".join(
            f"<li><a href=/n/{i}.html>相关文章{i} 2019/01/0{i} 10:00</a></li>" for i in range(1, 6)
        )
        + "</ul></body></html>"
    )
    assert extract(html.encode()).published_at == "2018-03-05T09:53:00+08:00"


def test_the_issue_of_a_periodical_dates_a_reprinted_article():
    from xinwen import extract

    # The citation closes a long text: far from the headline, it has only its form for it.
    prose = "<p>犬儒主义在当代中国的蔓延，是一个值得认真对待的精神现象，需要细致分析。</p>" * 40
    html = (
        "<html><head><title>犬儒病</title></head><body><h1>犬儒病（上）</h1>"
        f"<div class=text>{prose}<p>《北京之春》1998年3月号</p></div></body></html>"
    )
    article = extract(html.encode())
    assert (article.published_at, article.published_precision) == ("1998-03", "month")


READER_TEXTS = [
    "2024-11-06 19:15:32", "11月6日 10:30", "10-05 08:00", "昨天 10:30", "刚刚", "3小时前",
    "2024年11月", "２０２４－１１－０６ １９：１５", "7/5/2005 9:23:57 PM", "2024-11-06T10:15:00Z",
    "2099-01-01", "12月31日", "no date", "", "1月1日 00:10",
]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "anchor"),
    [
        (None, None),
        ("https://news.example.cn/2024/1231/a.html", None),
        ("https://news.example.cn/a.html", date(2023, 6, 1)),
        ("https://news.example.cn/2024/1231/a.html", date(2023, 6, 1)),
    ],
)
def test_one_reader_reads_many_texts_as_parse_date_reads_each(
    url: str | None, anchor: date | None
) -> None:
    # The reader works out the clock and the URL's stamp once, for all the texts it reads.
    tokyo = timezone(timedelta(hours=9))
    for zone in (CHINA, tokyo):
        reader = Reader(zone=zone, now=NOW, url=url, anchor=anchor)
        for text in READER_TEXTS:
            assert reader.read(text) == parse_date(
                text, zone=zone, now=NOW, url=url, anchor=anchor
            ), text
