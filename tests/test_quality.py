"""Quality measures and flags stored with each article."""

from __future__ import annotations

import re

from xinwen import extract, quality
from xinwen.models import Decoded
from xinwen.quality import assess

LONG = "央行今日宣布下调金融机构存款准备金率，释放长期资金约一万亿元。" * 10


def _page(title: str, body: str, date: str = "2024-11-06 19:15") -> str:
    return (
        f"<html><head><title>{title}_新闻网</title></head><body><h1>{title}</h1>"
        f"<div class=info>发布时间：{date}</div>"
        f"<div class=content><p>{body}</p></div></body></html>"
    )


def test_clean_article_has_no_flags():
    article = extract(_page("央行宣布降准", LONG).encode())
    assert article.flags == []
    assert article.decode_errors == 0
    assert 0.9 < article.cjk_ratio <= 1.0


def test_short_body_and_missing_date():
    article = extract(_page("简讯", "一句话新闻。", date="").encode())
    assert "short_body" in article.flags
    assert "date_missing" in article.flags


def test_mojibake_is_flagged_not_repaired():
    body = LONG + "锟斤拷锟斤拷"
    article = extract(_page("乱码页面", body).encode())
    assert "mojibake_suspect" in article.flags
    assert "锟斤拷" in article.body  # flagged, never silently "repaired"


def test_decode_errors_are_counted_and_flagged():
    article = extract(_page("正常标题", LONG).encode())
    decoded = Decoded("x\ufffd\ufffd", "gb18030", "meta", 2)
    assessed = assess(article, decoded)
    assert assessed.decode_errors == 2
    assert "mojibake_suspect" in assessed.flags


def test_latin_text_has_low_cjk_ratio():
    english = "The central bank cut the reserve requirement ratio today. " * 10
    article = extract(_page("English page", english).encode())
    assert article.cjk_ratio < 0.1


# Texts for the counts' fast paths: Han of both ranges and their neighbours, a character beyond
# U+FFFF, a lone surrogate, every kind of whitespace (some printable-looking, some not).
ODD_TEXTS = [
    "",
    "央行 今日\n发布",
    "\u33ff\u3400\u9fff\ua000\uf8ff\uf900\ufaff\ufb00",
    "𠀀𠮷 字\ud800",
    "a\tb\u3000c\u00a0d\u2028e\x85f\x1cg\u200bh",
    "Ã©æ–锟斤拷 \ufffd",
]


def test_counts_agree_with_their_regex_definitions():
    for text in ODD_TEXTS:
        assert quality._non_space(text) == len(re.sub(r"\s+", "", text)), text
        assert quality._han(text) == len(re.sub(r"[^\u3400-\u9fff\uf900-\ufaff]+", "", text))
        assert quality._mojibake(text) == (quality._MOJIBAKE.search(text) is not None)


def test_mojibake_leads_cover_every_alternative():
    # `_mojibake` skips the regex when no lead character is present: each alternative of the
    # pattern must start with one of them.
    for alternative in quality._MOJIBAKE.pattern.split("|"):
        first = alternative[1] if alternative.startswith("[") else alternative[0]
        if alternative.startswith("\\u"):
            first = chr(int(alternative[2:6], 16))
        assert first in quality._MOJIBAKE_LEADS, alternative
        if alternative.startswith("["):
            assert set(alternative[1 : alternative.index("]")]) <= set(quality._MOJIBAKE_LEADS)
