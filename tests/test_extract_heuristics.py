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
