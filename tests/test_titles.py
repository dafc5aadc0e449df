"""Headlines: site-name suffixes, page tails and icon glyphs stripped; subtitles kept."""

from __future__ import annotations

import pytest

from xinwen import extract
from xinwen.parse.generic import strip_site_name


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("众信普惠逾期一年多该如何处理_银行逾期_融知网", "众信普惠逾期一年多该如何处理"),
        ("女儿出嫁，郑板桥画了几笔兰花当嫁妆--文化--人民网", "女儿出嫁，郑板桥画了几笔兰花当嫁妆"),
        ("多维博客  » 播客热潮迅速蔓延 挑逗传统传媒业", "播客热潮迅速蔓延 挑逗传统传媒业"),
        ("武汉的声音：有英勇的你，才有英雄的城！-新华网", "武汉的声音：有英勇的你，才有英雄的城！"),
        ("社会资本与再就业(页 1) - 学术前沿 - 社会学论坛", "社会资本与再就业"),
        ("长文分页（第2页）_财经_示例网", "长文分页"),
        ("2024-2025年度工作要点_政府网", "2024-2025年度工作要点"),
        ("为现代化建设凝聚力量——热烈祝贺会议开幕_政府网", "为现代化建设凝聚力量——热烈祝贺会议开幕"),
        ("没有分隔符的标题", "没有分隔符的标题"),
    ],
)
def test_strip_site_name(title: str, expected: str):
    assert strip_site_name(title) == expected


def test_icon_glyph_at_the_end_of_a_title_is_dropped():
    html = (
        "<html><head><title>投身外交(3)\ue004_读书频道_新浪网</title></head><body>"
        "<h1>投身外交(3)\ue004</h1><div class=content><p>"
        + "乔冠华在联合国大会上发表讲话，引起各国代表的广泛关注。" * 5
        + "</p></div></body></html>"
    )
    assert extract(html.encode()).title == "投身外交(3)"
