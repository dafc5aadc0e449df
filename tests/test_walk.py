"""The C tree walk (parse/_walk.c) against the Python one (parse/_tree.measure_python).

The two must give the same columns on every page. Where the accelerator is not built these
tests skip, except in CI (.ci/run), where it must be built: a silent fallback would lose speed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from xinwen import encoding
from xinwen.parse import _tree, category, generic, pages, picks
from xinwen.parse._tree import Measured, _line_kind, astuple_of, lines_python, measure_python

# .ci/run sets it: there the accelerator must be built and in use.
REQUIRED = bool(os.environ.get("XINWEN_REQUIRE_ACCELERATOR"))
needs_walk = pytest.mark.skipif(
    not _tree.accelerated and not REQUIRED,
    reason="the C walk (xinwen.parse._walk) is not built here; pip install -e . builds it",
)


def test_ci_builds_the_c_walk() -> None:
    if not REQUIRED:
        pytest.skip("only CI (XINWEN_REQUIRE_ACCELERATOR=1) insists on the accelerator")
    assert _tree.accelerated, "xinwen.parse._walk was not built or failed its check at import"


def _both(root: LexborNode) -> tuple[tuple[object, ...], tuple[object, ...]]:
    assert _tree._walk is not None
    fast = _tree.measured_of(_tree._walk.measure(root))
    return astuple_of(fast), astuple_of(measure_python(root))


NESTED = "<div>" * 5000 + "<p>深处的文字，很深。</p>" + "</div>" * 5000
MANY_RUNS = "<div>" + "".join(f"<span>第{i}段。</span> " for i in range(_tree.MAX_TEXTS + 50))
PAGES = {
    "plain": "<html><body><h1>标题</h1><div class=c><p>第一段，文字。</p><p>二</p></div>",
    "links": "<p><a href=/x>有链接</a><a>无链接</a><A HREF='/y'>大写<b>加粗</b></a></p>",
    "anchor left open": "<a name=top1><div><p>帖子正文，很长。</p></div><div>页脚</div>",
    "dropped": "<div><script>var a='文字';</script><style>p{}</style><p>留下</p>"
    "<select><option>选项</option></select><template><p>模板</p></template></div>",
    "comments and custom tags": "<div><!-- 注释 --><o:p>自定义</o:p><foo-bar>组件，文字</foo-bar>"
    "<x-y><p>里面</p></x-y></div>",
    "spaces": "<p>\u00a0\u3000 </p><p> 文\u3000字 \u00a0</p><div>\n\t</div>",
    "punctuation": "<div>一，二。三！四？五；六：七、八<span>，。</span></div>",
    "svg and math": "<div><svg><a href=#><text>图</text></a></svg><math><mi>x</mi></math></div>",
    "tables": "<table><tr><td>甲</td><td><font><p>乙，丙。</p></font></td></tr></table>",
    "empty": "",
    "only text": "只有文字",
    "nul and controls": "<p>a\x00b\x01c</p><p>\ufffd</p>",
    "lines": "<div><h1>标题</h1><p>一<br>二<br><br><b>粗体</b>，<strong>加粗</strong></p>"
    "<h3>小标题</h3><p>  </p><div class=share>分享到</div><h4><b>四</b>级</h4>"
    "<table><tr><td>甲</td><td>乙<a href=/x>链</a></td></tr></table>末尾</div>",
    "nested": NESTED,
    "many runs": MANY_RUNS,
}


@needs_walk
@pytest.mark.parametrize("name", list(PAGES))
def test_walks_agree(name: str) -> None:
    tree = LexborHTMLParser(PAGES[name])
    for root in (tree.body, tree.root, tree.css_first("div"), tree.css_first("p")):
        if root is None:
            continue
        fast, slow = _both(root)
        for field, a, b in zip(Measured.__slots__, fast, slow, strict=True):
            assert a == b, f"{name}: {field} differs under {root.tag}"


@needs_walk
def test_walks_agree_on_a_dropped_root_and_a_leaf() -> None:
    tree = LexborHTMLParser("<div><script>x()</script><br><p>文</p></div>")
    for css in ("script", "br"):
        node = tree.css_first(css)
        assert node is not None
        fast, slow = _both(node)
        assert fast == slow


@needs_walk
def test_walks_agree_on_the_corpus(corpus: Path) -> None:
    pages = sorted((corpus / "pages").iterdir())
    assert len(pages) > 200
    for path in pages:
        text = encoding.decode(path.read_bytes(), None).text
        tree = LexborHTMLParser(text)
        root = tree.body or tree.root
        assert root is not None
        fast, slow = _both(root)
        assert fast == slow, path.name


@needs_walk
def test_the_c_walk_keeps_the_nodes_usable() -> None:
    tree = LexborHTMLParser("<div id=a class=b><p>文字，很多。</p></div>")
    measured = _tree.measure(tree.root)  # type: ignore[arg-type]
    tags = [node.tag for node in measured.nodes]
    assert tags == ["html", "body", "div", "p"]  # <head> is dropped with what it holds
    div = measured.nodes[2]
    assert div.attributes == {"id": "a", "class": "b"}
    assert div.parser is tree
    assert div.text() == "文字，很多。"
    assert measured.index_of(div.mem_id) == 2 and measured.index_of(12345) is None
    assert len(measured.nodes) == 4 and measured.nodes[-1].tag == "p"
    assert measured.nodes[2].mem_id == measured.nodes[2].mem_id  # a new view, the same node
    with pytest.raises(IndexError):
        measured.nodes[4]
    del tree  # the nodes keep their parser (and its tree) alive
    assert measured.nodes[3].text() == "文字，很多。"


@needs_walk
def test_configure_refuses_a_layout_it_does_not_know() -> None:
    walk = _tree._walk
    assert walk is not None
    probe = LexborHTMLParser("<div><p>x</p><b>y</b></div>")
    div, p, b = (probe.css_first(tag) for tag in ("div", "p", "b"))
    assert div is not None and p is not None and b is not None and p.first_child is not None
    lib = sys.modules["selectolax.lexbor"].__file__
    swapped = (div.mem_id, b.mem_id, p.first_child.mem_id, p.mem_id, div.tag_id, p.tag_id)
    with pytest.raises(RuntimeError, match="layout"):
        walk.configure(div, swapped, _tree._kind, lib, _tree.MAX_TEXTS)
    right = (div.mem_id, p.mem_id, p.first_child.mem_id, b.mem_id, div.tag_id, p.tag_id)
    with pytest.raises(RuntimeError, match="not found"):
        walk.configure(div, right, _tree._kind, "/nonexistent/lexbor.so", _tree.MAX_TEXTS)
    # A refused configuration leaves the working one in place.
    fast, slow = _both(LexborHTMLParser(PAGES["links"]).root)  # type: ignore[arg-type]
    assert fast == slow


def test_pure_python_is_a_switch_and_extracts_the_same() -> None:
    page = (
        "<html><head><title>央行降准_新闻</title></head><body><h1>央行降准</h1>"
        "<div class=time>2024-11-06 10:00</div><div class=content><p>"
        + "中国人民银行决定下调存款准备金率，释放长期流动性。" * 5
        + "</p></div></body></html>"
    )
    code = (
        "import sys, json; from xinwen import extract; from xinwen.parse import _tree; "
        "a = extract(sys.stdin.buffer.read(), url='https://n.example.com/a/1.html'); "
        "print(json.dumps([_tree.accelerated, a.model_dump()], ensure_ascii=False))"
    )
    runs = []
    for pure in ("1", ""):
        env = {**os.environ, "XINWEN_PURE_PYTHON": pure}
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=page.encode(),
            env=env,
            capture_output=True,
            check=True,
        )
        runs.append(out.stdout)
    assert runs[0].startswith(b"[false,")
    built = importlib.util.find_spec("xinwen.parse._walk") is not None
    assert runs[1].startswith(b"[true," if built else b"[false,")
    assert runs[0].split(b",", 1)[1] == runs[1].split(b",", 1)[1]
    assert "央行降准" in runs[0].decode("utf-8")


def _lines_both(
    root: LexborNode, title: str | None, budget: int
) -> tuple[list[tuple[str, int, bool]], list[tuple[str, int, bool]]]:
    assert _tree._walk is not None
    measured = measure_python(root)
    first = measured.by_id.get(root.mem_id)

    def furniture(index: int) -> bool:
        return generic._is_furniture(measured, index)

    def is_title(node: LexborNode) -> bool:
        return generic.clean(node.text()) == title

    test = is_title if title else None
    args = (measured.by_id, first, furniture)
    fast = _tree._walk.lines(root, *args, _line_kind, test, budget)
    return fast, lines_python(root, *args, test, budget)


@needs_walk
@pytest.mark.parametrize("name", list(PAGES))
def test_lines_agree(name: str) -> None:
    tree = LexborHTMLParser(PAGES[name])
    for root in (tree.body, tree.css_first("div"), tree.css_first("p")):
        if root is None:
            continue
        for title in (None, "标题"):
            for budget in (generic.MAX_BODY, 3, 1):
                fast, slow = _lines_both(root, title, budget)
                assert fast == slow, f"{name} under {root.tag}, {title}, {budget}"


def test_lines_read_breaks_headings_bold_and_the_headline() -> None:
    tree = LexborHTMLParser(PAGES["lines"])
    root = tree.css_first("div")
    assert root is not None
    measured = _tree.measure(root)

    def furniture(index: int) -> bool:
        return generic._is_furniture(measured, index)

    def is_title(node: LexborNode) -> bool:
        return node.text() == "标题"

    got = _tree.lines(root, measured, furniture, is_title, 1000)
    assert got == [
        ("一", 0, False),
        ("二", 0, False),
        ("粗体，加粗", 0, False),  # the comma is not bold: not all of the line is
        ("小标题", 2, False),
        ("  ", 0, False),  # blocks_of drops it after clean()
        ("四级", 3, False),  # (the share bar is furniture, skipped)
        ("甲", 0, False),
        ("乙链", 0, False),
        ("末尾", 0, False),
    ]
    assert _tree.lines(root, measured, furniture, None, 1000)[0] == ("标题", 1, False)
    # Three characters: the third ends the walk, cut, with no block closed after it.
    cut = [("一", 0, False), ("二", 0, False), ("粗", 0, False)]
    assert _tree.lines(root, measured, furniture, is_title, 3) == cut


@needs_walk
def test_lines_agree_on_the_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "pages").iterdir()):
        tree = LexborHTMLParser(encoding.decode(path.read_bytes(), None).text)
        root = tree.body
        if root is None:
            continue
        fast, slow = _lines_both(root, None, generic.MAX_BODY)
        assert fast == slow, path.name
        fast, slow = _lines_both(root, None, 500)
        assert fast == slow, path.name


@needs_walk
@pytest.mark.parametrize("wide", ["", "中", "\U0001f600"])  # one, two and four bytes a character
def test_block_tag_counts_agree(wide: str) -> None:
    assert _tree._walk is not None
    cases = [
        "",
        "<",
        "<l",
        "<li",
        "<di",
        "<div",
        "<DIV",
        "<Div",
        "<<li",
        "<li<div<DIV",
        wide + "<li>" * 4 + "<p>",
        ("<div>" + wide) * 5 + "<li" * 5,
    ]
    for html in cases:
        for limit in range(8):
            expected = _tree.many_block_tags_python(html, limit)
            assert _tree._walk.many_block_tags(html, limit) == expected, (html, limit)
    for n in (4999, 5000):
        html = wide + "<span>" * 5000 + "<li>" * n
        assert _tree._walk.many_block_tags(html, 5000) == (n >= 5000)


@needs_walk
def test_block_tag_counts_agree_on_the_corpus(corpus: Path) -> None:
    assert _tree._walk is not None
    for path in sorted((corpus / "pages").iterdir()):
        html = encoding.decode(path.read_bytes(), None).text
        for limit in (100, 1000, 5000):
            expected = _tree.many_block_tags_python(html, limit)
            assert _tree._walk.many_block_tags(html, limit) == expected, (path.name, limit)


@pytest.mark.parametrize("deep", [False, True])
def test_utf8_bytes_parse_as_their_text_does(deep: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from xinwen import parse
    from xinwen.workerproc import parse_page

    given: list[type] = []

    def parser(html: str | bytes, options: int = 0) -> LexborHTMLParser:
        given.append(type(html))
        return LexborHTMLParser(html, options=options)

    monkeypatch.setattr(parse, "LexborHTMLParser", parser)

    body = "<p>" + "中国人民银行决定下调存款准备金率，释放长期流动性。" * 4 + "</p>"
    if deep:  # deep enough for _flatten_deep to rewrite the text: then the text is parsed
        body = "<div>" * 6000 + body + "</div>" * 6000
    page = f"<html><head><title>降准_新闻</title></head><body><h1>降准</h1>{body}</body></html>"
    url = "https://n.example.com/a/1.html"
    from_bytes = parse_page(page.encode(), url, (), "text/html; charset=utf-8")
    from_text = parse_page(page, url, (), None)
    assert from_bytes[1].encoding == "utf-8" and from_bytes[1].source == "header"
    assert from_bytes[2] == from_text[2]
    assert from_bytes[2].title == "降准" and "存款准备金率" in from_bytes[2].blocks[0].text
    # The bytes themselves are parsed, unless the text had to be flattened first.
    assert given == [str if deep else bytes, str]


QUERIES = [generic.HEAD, generic.TITLES, category.NAMED, pages.NEXT, picks.LINKS]
SELECT_PAGE = (
    "<html class=crumb id=Title><head><meta charset=utf-8><meta name=x content=y>"
    "<script type='Application/LD+JSON'>{}</script><script type=application/ld+json>{}</script>"
    "<script type='application/ld+json '>{}</script><link rel=NEXT href=/2><link rel href>"
    "<link rel=canonical><title>题</title></head>"
    "<body class='BreadCrumb'><h1 class=title id=title>标题</h1><h2>二</h2><h3 class=tit>三</h3>"
    "<div class='crumb bread position location daohang path weizhi mbx'>多个名字</div>"
    "<div class=''>空</div><div id=''>空</div><p class='面包屑crumb'>中文名</p>"
    "<div class='xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxmbx'>末尾</div>"
    "<span class=CRUMB>大写</span><span class=cru>短</span><span class=tITLE>t</span>"
    "<a href>空</a><a href=''>空二</a><a rel='next' href=/3>下一页</a><a rel='next page'>x</a>"
    "<a REL=Next>y</a><a>无</a><svg><a href=#a class=crumb>矢量</a></svg>"
    "<template><a href=/t class=crumb>模板</a></template><noscript><a href=/n>无脚本</a></noscript>"
    "<math><h1>数学</h1></math><table><tr><td id=weizhi>位置</td></tr></table></body></html>"
)


def _picked_both(tree: LexborHTMLParser) -> None:
    fast = picks.pick(tree, *QUERIES)
    for query in QUERIES:
        got = [node.mem_id for node in fast[query]]
        assert got == [node.mem_id for node in tree.css(query.css)], query.css


@needs_walk
def test_picks_find_what_lexbor_finds() -> None:
    _picked_both(LexborHTMLParser(SELECT_PAGE))
    _picked_both(LexborHTMLParser(""))
    tree = LexborHTMLParser(SELECT_PAGE)
    picked = picks.pick(tree, pages.NEXT)
    # rel=NEXT and REL=Next count (rel compares without case), rel="next page" does not.
    assert [n.attributes.get("href") for n in picked[pages.NEXT]] == ["/2", "/3", None]


@needs_walk
def test_picks_find_what_lexbor_finds_on_the_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "pages").iterdir()):
        _picked_both(LexborHTMLParser(encoding.decode(path.read_bytes(), None).text))


def test_picks_answer_a_query_not_walked_for_from_lexbor() -> None:
    tree = LexborHTMLParser(SELECT_PAGE)
    picked = picks.pick(tree, generic.HEAD)
    assert [n.tag for n in picked[pages.NEXT]] == [n.tag for n in tree.css(pages.NEXT.css)]


def test_a_query_cannot_compare_a_case_sensitive_attribute_without_case() -> None:
    with pytest.raises(ValueError, match="without case"):
        picks.Selector("a", (("href", picks.EQUALS, ("/x",)),))
    with pytest.raises(ValueError, match="bad values"):
        picks.Selector("a", (("class", picks.CONTAINS, ("",)),))


def test_queries_after_a_rule_drops_elements_do_not_see_them() -> None:
    from xinwen import parse
    from xinwen.rules import ExtractRules, SiteRule

    rule = SiteRule(
        id="dropper",
        name="Dropper",
        hosts=["n.example.com"],
        extract=ExtractRules(body="div.content", drop=["div.crumbs", "a.next"]),
    )
    page = (
        "<html><head><title>降准_新闻</title></head><body><h1>降准</h1>"
        "<div class=content><div class=crumbs><a href=/>首页</a> &gt; <a href=/gn/>国内</a></div>"
        "<p>" + "中国人民银行决定下调存款准备金率，释放长期流动性。" * 4 + "</p>"
        "<a class=next rel=next href=/a/1_2.html>下一页</a></div></body></html>"
    )
    url = "https://n.example.com/a/1.html"
    kept = parse.extract(page, url, None, links=True)
    dropped = parse.extract(page, url, rule, links=True)
    assert kept.category == "国内" and kept.next_page == "https://n.example.com/a/1_2.html"
    # Picked after the drop: the trail and the pager are gone with their elements.
    assert dropped.category is None and dropped.next_page is None
    assert "下调存款准备金率" in dropped.blocks[0].text
