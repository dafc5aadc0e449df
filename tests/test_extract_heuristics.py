"""Golden pages for the generic extractor's heuristics, each written after a structure seen on
real pages (the evidence is in the comment at the heuristic in src/xinwen/parse)."""

from __future__ import annotations

from xinwen import extract

POST = "《太行山上》主要讲述八路军总司令朱德率领主力师东渡黄河，挺进抗日前线的光辉历程。"


def test_an_anchor_left_open_does_not_make_the_post_link_text():
    # A forum template opens `<a name=top1>` and never closes it: the parser reopens it in
    # every block after it. Without an href it is not a link, so the post still wins.
    html = (
        "<html><head><title>论坛</title></head><body>"
        "<div class=floor><a name=top1>楼层： 第 1 楼</div>"
        f"<div class=post><p>{POST * 3}</p><p>{POST * 2}</p></div>"
        "<div class=foot>关于我们 | <a href=/ad>广告服务</a> | 联系我们，欢迎投稿，"
        "版权所有，如用做商业用途请先联系。</div></body></html>"
    )
    article = extract(html.encode(), url="http://bbs.example.cn/t/1.html")
    assert article.body.startswith("《太行山上》")
    assert "版权所有" not in article.body


def test_text_inside_real_links_still_counts_as_links():
    item = "<li><a href=/n/{0}.html>相关新闻第{0}条，点击查看详情。</a></li>"
    links = "".join(item.format(i) for i in range(30))
    html = (
        "<html><body><ul class=list>" + links + f"</ul><div><p>{POST * 2}</p></div></body></html>"
    )
    article = extract(html.encode(), url="http://news.example.cn/a.html")
    assert article.body.startswith("《太行山上》")
    assert "相关新闻" not in article.body


# --- category: the breadcrumb trail ------------------------------------------------------------

ARTICLE = "<p>" + "国务院常务会议今天召开，部署进一步稳定经济的一揽子政策措施。" * 5 + "</p>"


def _trail_page(trail: str) -> bytes:
    return (
        "<html><head><title>稳经济措施出台_新闻</title></head><body>"
        f"{trail}<h1>稳经济措施出台</h1><div class=content>{ARTICLE}</div></body></html>"
    ).encode()


def test_a_last_crumb_linking_to_the_page_itself_is_not_the_category():
    url = "http://biz.example.cn/41210/1/17867KR7.html"
    trail = (
        "<div><a href=http://www.example.cn>网易首页</a>--&gt;<a href=/>主频道</a>--&gt;"
        f"<a href=/xf/>消费真相</a>--&gt;<a href={url}>耐克</a></div>"
    )
    assert extract(_trail_page(trail), url=url).category == "消费真相"


def test_the_trail_ends_at_the_crumb_naming_the_page():
    trail = (
        "<div class=post_crumb><a href=/>网易首页</a> &gt; <a href=/dy/>网易号</a> &gt; 正文"
        " <a class=to_reg href=/reg>申请入驻</a></div>"
    )
    assert extract(_trail_page(trail), url="http://news.example.cn/a.html").category == "网易号"


def test_form_controls_in_a_trail_are_not_crumbs():
    options = "".join(f"<option>相关新闻第{i}条，点击阅读</option>" for i in range(3))
    trail = (
        "<div id=nav><a href=/>udn</a> / <a href=/c/6639>社会</a> / <b>焦点事件</b>"
        f"<select><option selected>相关新闻</option>{options}</select></div>"
    )
    assert extract(_trail_page(trail), url="http://news.example.cn/a.html").category == "焦点事件"


def test_punctuation_between_crumbs_is_not_a_crumb():
    trail = "<div>当前位置：<a href=/>社区</a> &gt; <a href=/sc/>大话四川</a> &gt; 【</div>"
    assert extract(_trail_page(trail), url="http://news.example.cn/a.html").category == "大话四川"


def _channel_page(above: str, below: str = "") -> bytes:
    menu = "".join(f"<li><a href=/c{i}/>频道{i}</a></li>" for i in range(5))
    return (
        "<html><head><title>稳经济措施出台_新闻</title></head><body>"
        f"<ul class=menu>{menu}</ul>{above}<h1>稳经济措施出台</h1>{below}"
        f"<div class=content>{ARTICLE}</div></body></html>"
    ).encode()


def test_a_labelled_category_is_read():
    below = "<div class=info>来源：新华社</div>"
    tail = "<div class=kw>所属分类：<span>数理化</span></div>"
    html = _channel_page("", below).replace(b"</body>", tail.encode() + b"</body>")
    assert extract(html, url="http://news.example.cn/a.html").category == "数理化"


def test_a_channel_label_above_the_headline_is_the_category():
    for above, expected in [
        ('<p class="category"><span>智能</span></p>', "智能"),
        ("<p><span>■</span><span>纪检监察</span></p>", "纪检监察"),
        ("<table><tr><td><a href=/bsxw/>报社新闻</a>频道</td></tr></table>", "报社新闻"),
        ("<h2><a href=https://finance.example.cn/>新浪财经</a></h2>", "新浪财经"),
    ]:
        page = _channel_page(above)
        assert extract(page, url="http://news.example.cn/a.html").category == expected, above


def test_a_named_channel_label_below_the_headline_is_the_category():
    below = (
        "<div class=a_Info><span class=a_catalog><a href=/jrsc.htm>金融市场</a></span>"
        "<span class=a_source>棱镜</span><span class=a_time>2019-09-23 07:48</span></div>"
    )
    assert extract(_channel_page("", below), url="http://x.cn/a.html").category == "金融市场"


def test_menus_and_info_lines_beside_the_headline_are_not_categories():
    for above, below in [
        ("", ""),  # the menu's last item sits right above the headline
        ("<div class=login><a href=/login>登录</a></div>", ""),
        ("<div><a href=/ad>广告</a></div>", "<div><span>人民日报</span></div>"),
        ('<div class=channel><a id="pc-channel-entry" href=/>来源：半月谈网</a></div>', ""),
        ("", '<h1><span class="mw-editsection"><a href=/edit>编辑</a></span></h1>'),
    ]:
        page = _channel_page(above, below)
        assert extract(page, url="http://news.example.cn/a.html").category is None, above


def test_trails_drawn_with_spaced_hyphens():
    home_first = "<div class=title_la><h3>首页 - 新闻动态</h3></div>"
    assert extract(_trail_page(home_first), url="http://x.cn/a.html").category == "新闻动态"
    lead = (
        "<div><span>当前您在</span> - <a href=/>中关村在线论坛</a> - "
        "<a href=/bt/>BT下载专区</a> <span>点击数：39</span></div>"
    )
    assert extract(_trail_page(lead), url="http://x.cn/a.html").category == "BT下载专区"


def test_a_lone_hyphen_or_a_date_is_not_a_trail():
    menu = "<div><a href=/m>电邮</a> - <a href=/s>搜狗</a></div>"
    assert extract(_trail_page(menu), url="http://x.cn/a.html").category is None
    date = "<div><span>2019</span>/<span>07</span>/<span>17</span></div>"
    assert extract(_trail_page(date), url="http://x.cn/a.html").category is None


def test_a_trail_above_the_headline_is_not_taken_for_it():
    # No usable <title>: the headline is chosen among the lines above the text.
    html = (
        "<html><body><div class=title_la><h3>首页 - 新闻动态</h3></div>"
        "<div><h5>学术年会在重庆成功举行！</h5><div>发布时间：2019-05-18</div></div>"
        f"<div class=content>{ARTICLE}</div></body></html>"
    )
    assert extract(html.encode(), url="http://x.cn/a.html").title == "学术年会在重庆成功举行！"


def test_paragraphs_wrapped_in_inline_elements_still_score_their_container():
    # Word's HTML: every <p> inside <font><font>. The container must collect their scores, or
    # the longest single paragraph (or a disclaimer elsewhere) wins alone.
    sentence = "李金泽同志现任公司党委书记、董事长兼总经理，先后荣获多项国家专利。"
    paragraphs = "".join(
        f"<p class=MsoNormal><span>{sentence * (2 + i % 3)}</span></p>" for i in range(8)
    )
    html = (
        "<html><head><title>农机专家李金泽_新华网</title></head><body><h1>农机专家李金泽</h1>"
        f"<div id=Content><font color=#008080><font>{paragraphs}</font></font></div>"
        "<table><tr><td><p>版权与免责声明：凡本网注明来源的作品，版权均属本网所有，未经授权，"
        "不得转载、摘编或利用其它方式使用上述作品。已经授权使用的，应在授权范围内使用，"
        "并注明来源。违反上述声明者，本网将追究其相关法律责任。</p></td></tr></table>"
        "</body></html>"
    )
    article = extract(html.encode(), url="http://news.example.cn/a.html")
    assert article.body.count("李金泽同志") == sum(2 + i % 3 for i in range(8))


def test_a_tree_of_replies_under_a_forum_post_does_not_outweigh_the_post():
    # The replies are links with short meta lines: over half link text. The post, right
    # under the subject line, is the text; the <title> is only the forum's name.
    replies = "".join(
        f"<li><a href=/t?id={i}>参与旅行社的一般都是弱势群体，回复第{i}楼</a>"
        f"【<a href=/u/{i}>网友{i}</a>】08-11 16:{10 + i} {100 + i}字</li>"
        for i in range(60)
    )
    post = "导游的收入很大一部分来自购物的回扣，这是业内的行规，境内游境外游都是这样的。" * 3
    html = (
        "<html><head><title>央视论坛</title></head><body><table>"
        "<tr><td><b>主题：</b>你知道导游为什么热衷于让你去商场购物吗？</td></tr>"
        "<tr><td><b>作者：</b><a href=/u/0>芊草</a> <b>时间：</b>2005-08-22 19:13:18</td></tr>"
        f"<tr><td><p class=large>{post}</p></td></tr></table>"
        f"<b>回复线索：</b><ul>{replies}</ul></body></html>"
    )
    article = extract(html.encode(), url="http://bbs.example.cn/forumthread.jsp?id=1")
    assert article.title == "你知道导游为什么热衷于让你去商场购物吗？"
    assert article.body == post


def test_a_listing_is_still_not_an_article():
    from xinwen.parse import extract as parse_extract

    items = "".join(
        f"<li><a href=/n/{i}.html>国务院常务会议部署稳经济措施第{i}条</a>"
        f"<span>2024-11-0{i % 9 + 1}</span></li>"
        for i in range(30)
    )
    html = (
        "<html><head><title>国内新闻_列表</title></head><body><h1>国内新闻</h1>"
        f"<ul class=list>{items}</ul><div class=foot><p>版权所有：示例新闻网，未经授权，"
        "不得转载、摘编或以其它方式使用本网作品。联系电话：010-12345678。</p></div></body></html>"
    )
    assert not parse_extract(html, "http://news.example.cn/list/").is_article


# --- body: siblings of the text's container ------------------------------------------------------

TEXT = "培养德智体美全面发展，在本门学科上掌握坚实宽广的基础理论和系统深入的专门知识。"


def _sections_page(after: str, before: str = "") -> bytes:
    return (
        "<html><head><title>招生简章_艺术研究院</title></head><body><h1>招生简章</h1>"
        f"<div class=main>{before}<table><tr><td>{TEXT * 6}<br>附：招生专业及考试科目</td></tr>"
        f"</table>{after}</div><div class=side><p>站内导航</p></div></body></html>"
    ).encode()


def test_a_table_that_the_text_continues_into_joins_the_body():
    rows = "".join(
        f"<tr><td>0{i}艺术学原理</td><td>导师{i}</td><td>1、英语或俄语；2、艺术概论；3、中国艺术史</td></tr>"
        for i in range(1, 8)
    )
    article = extract(_sections_page(f"<table>{rows}</table>"), url="http://x.cn/a.html")
    assert "07艺术学原理" in article.body
    assert article.body.startswith(TEXT)


def test_sections_under_their_own_headings_join_the_body():
    poem = (
        "我有所念人，隔在远远乡。我有所感事，结在深深肠。乡远去不得，无日不瞻望。"
        "肠深解不得，无夕不思量。况此残灯夜，独宿在空堂。"
    )
    html = (
        "<html><head><title>夜雨_古诗词网</title></head><body><div class=prose><h1>夜雨</h1>"
        f"<div class=s2><p>原文：</p><div>{poem}</div></div>"
        f"<div class=sx><h3>译文及注释</h3><a href=/more>更多</a><div>{TEXT * 8}</div></div>"
        f"<div class=sx><h3>赏析</h3><a href=/more2>更多</a><div><p>{TEXT * 5}</p></div></div>"
        "</div><div class=right><p>作者简介在这里。</p></div></body></html>"
    )
    body = extract(html.encode(), url="http://x.cn/a.html").body
    assert body.startswith("原文") and poem in body and "赏析" in body


def test_notices_recommendations_and_bylines_beside_the_text_stay_out():
    notice = (
        f"<div><p>反侵权公告：</p><p>{TEXT * 3}未经书面许可，擅自转载的，本社将追究责任。</p></div>"
    )
    related = "".join(
        f"<li><a href=/n/{i}.html>推荐文章{i}</a><span>{TEXT * 2}</span></li>" for i in range(4)
    )
    recommend = f"<div class=row-recommend><ul>{related}</ul></div>"
    byline = "<div><p>【新春走基层】</p><p>光明日报记者 王建宏 张文攀</p></div>"
    body = extract(_sections_page(notice + recommend, byline), url="http://x.cn/a.html").body
    assert body.startswith(TEXT)
    assert "反侵权" not in body and "推荐文章" not in body and "记者" not in body


def test_a_section_shown_as_text_between_links_makes_a_trail():
    trail = (
        "<table><tr><td><a href=/ent/>网易娱乐</a> &gt; 电影版区 &gt; "
        "<a href=forum.php?code=18>周黎明留言板</a></td></tr></table>"
    )
    assert extract(_trail_page(trail), url="http://x.cn/a.html").category == "周黎明留言板"


def test_a_list_named_bread_is_a_trail_drawn_by_css():
    trail = (
        '<ul class="bread padding-top"><li><a href=/>太原晚报</a></li>'
        "<li><a href=/ty/index.htm>太原</a></li><li>正文</li></ul>"
    )
    assert extract(_trail_page(trail), url="http://x.cn/a.html").category == "太原"
