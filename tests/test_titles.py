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


PROSE = "承蒙朋友邀请，很高兴来到这里写作。这里是做技术博客的好地方，我会集中写两个方面的内容。"


def _page(top: str, title: str = "") -> bytes:
    nav = "".join(f"<li><a href=/c/{i}.html>栏目{'一二三四五六'[i]}频道</a></li>" for i in range(6))
    head = f"<title>{title}</title>" if title else ""
    return (
        f"<html><head>{head}</head><body><ul class=nav>{nav}</ul>{top}"
        f"<div class=text><p>{PROSE * 3}</p><p>{PROSE * 2}</p></div></body></html>"
    ).encode()


def test_a_forum_subject_label_gives_the_headline():
    # Forum threads: no usable <title>, the subject shown after 主题：, the byline under it.
    top = "<table><tr><td><b>主题：</b>导游为什么热衷于带你去商场购物？</td></tr>"
    top += (
        "<tr><td><b>作者：</b><a href=/u/1>芊草</a> <b>时间：</b>2005-08-22 19:13</td></tr></table>"
    )
    article = extract(_page(top, "央视论坛"), url="http://bbs.example.cn/thread?id=1")
    assert article.title == "导游为什么热衷于带你去商场购物？"


def test_a_blog_heading_that_links_to_the_post_itself_is_the_headline():
    # The category link under it is a link to another page: not the headline.
    permalink = "/blog/archive/2004/12/27/41810.html"
    top = f'<div class=post><h2><a href="{permalink}">很高兴入住博客堂</a></h2>'
    top += "<div class=meta><a href=/blog/category/1079.aspx>程序人生</a></div>"
    article = extract(_page(top), url="http://blog.example.cn/blog/archive/2004/12/27/41810.aspx")
    assert article.title == "很高兴入住博客堂"


def test_a_bold_line_above_the_byline_beats_the_navigation():
    top = "<p><b><big>茉莉：我是怎样卷入那场运动的</big></b></p>"
    top += "<p>作者：茉莉 发布日期：2005-07-05</p>"
    article = extract(_page(top, "谢谢访问"), url="http://www.example.org/a.asp?id=3")
    assert article.title == "茉莉：我是怎样卷入那场运动的"


def test_navigation_links_are_not_taken_for_the_headline():
    article = extract(_page("", "网站"), url="http://www.example.org/a.html")
    assert article.title == "网站"


def test_a_title_the_page_does_not_show_gives_way_to_a_strong_headline():
    # The same greeting in every page's <title>; the headline is set off above the byline.
    top = "<p><b><font size=3>孙丰：巴黎举行座谈会</font></b></p>"
    top += "<p>作者：孙丰 发布日期：2004-09-17</p>"
    article = extract(
        _page(top, "谢谢您访问〖关注中国中心〗"), url="http://www.example.org/d.asp?id=7"
    )
    assert article.title == "孙丰：巴黎举行座谈会"


def test_a_title_the_page_shows_is_kept():
    top = "<p><b>孙丰：巴黎举行座谈会</b></p><p>作者：孙丰 发布日期：2004-09-17</p>"
    page = _page("<div class=logo>谢谢您访问关注中国中心</div>" + top, "谢谢您访问关注中国中心")
    assert extract(page, url="http://www.example.org/d.asp?id=7").title == "谢谢您访问关注中国中心"
