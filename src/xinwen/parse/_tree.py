"""One pass over a Lexbor tree that measures every element, for the scorers to use.

The walk is iterative (80,000 nested divs must not hit Python's recursion limit) and visits each
node once: per element it records the length of its text, of its link text, of the text that is
its own (not inside a nested block) and the Chinese punctuation in it.

The measures are kept as columns (one list per measure, indexed by the element's position in
document order) rather than one object per element: a page has about a thousand elements, and
building an object for each cost more than the walk itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate
from operator import mul, sub
from types import ModuleType
from typing import Any, cast

from selectolax.lexbor import LexborHTMLParser, LexborNode

BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
HEADING_TAGS = {"h1": 1, "h2": 1, "h3": 2, "h4": 3, "h5": 3, "h6": 3}
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "iframe",
        "svg",
        "template",
        "select",
        "button",
        "input",
        "textarea",
        "object",
        "embed",
        "canvas",
        "video",
        "audio",
        "map",
        "head",
        "link",
        "meta",
    }
)
_log = logging.getLogger(__name__)
_PUNCT = "，。！？；：、"
# Text nodes kept for the date and info-line search (the rest is only measured).
MAX_TEXTS = 20000


@dataclass(slots=True)
class Measured:
    """The result of the walk: element measures in columns, and the page's text runs.

    Elements are numbered in document order; the text runs in an element's subtree are
    `texts[runs_start[index]:runs_end[index]]`. Characters are counted without spaces.
    """

    # The elements (a list, or the C walk's sequence that makes each node when it is asked for).
    nodes: Sequence[LexborNode] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)  # the parent's index, -1 for the root
    # The nearest block ancestor's index (-1 for the root): inline wrappers (<font>) skipped.
    block_parent: list[int] = field(default_factory=list)
    text: list[int] = field(default_factory=list)  # characters in the subtree
    links: list[int] = field(default_factory=list)  # those of them inside <a>
    punct: list[int] = field(default_factory=list)  # Chinese punctuation in the subtree
    own: list[int] = field(default_factory=list)  # characters not inside a nested block element
    own_punct: list[int] = field(default_factory=list)
    runs_start: list[int] = field(default_factory=list)
    runs_end: list[int] = field(default_factory=list)
    by_id: dict[int, int] = field(default_factory=dict)  # node.mem_id -> element index (Python)
    texts: list[tuple[str, int, bool]] = field(default_factory=list)  # (text, element, in <a>)
    # An element's class and id as "class id" (either may be empty): the name hints read them.
    names: Callable[[int], str] = field(default=lambda index: "", compare=False)
    # node.mem_id -> element index, or None: `by_id.get`, or the C walk's own table.
    index_of: Callable[[int], int | None] = field(default=lambda mem_id: None, compare=False)


# What the walk does with a node, decided once per tag per walk (see `_kind`).
_SKIP = 0  # comments, doctypes, dropped tags: the node and its subtree are not measured
_TEXT = 1
_INLINE = 2
_BLOCK = 3
_LINK = 4  # <a>: inline, and its text counts as link text if it has an href

# Characters that `text` does not count (HTML's ASCII whitespace, the ideographic space and
# NBSP); `_PUNCT` is what `punct` counts. They are counted for all text runs at once after the
# walk: the runs joined by NUL (which no text node holds: the HTML parser drops or replaces it),
# the spaces deleted, then the punctuation, and split again. str.replace per character is 2x
# faster than one regex over the joined runs (0.21 -> 0.09 ms a page).
_SPACE_CHARS = " \n\t\r\f\u3000\u00a0"


def _text_tag_id() -> int:
    """lexbor's tag_id of text nodes (LXB_TAG__TEXT), read from a parsed text node."""
    paragraph = LexborHTMLParser("<p>x</p>").css_first("p")
    text = paragraph.first_child if paragraph is not None else None
    if text is None or text.tag != "-text":
        raise RuntimeError("selectolax did not parse <p>x</p> as expected")
    return text.tag_id


# Text nodes are half of all nodes: comparing their tag_id with this spares a dict lookup.
_TEXT_ID = _text_tag_id()


def _kind(node: LexborNode) -> int:
    tag = node.tag
    if tag == "-text":
        return _TEXT
    if tag is None or tag.startswith("-") or tag in DROP_TAGS:
        return _SKIP
    if tag == "a":
        return _LINK
    return _BLOCK if tag in BLOCK_TAGS else _INLINE


def measure(root: LexborNode) -> Measured:
    """Walk the tree under `root` once and measure every element.

    The walk is done in C by `_walk` where that accelerator is built and passed its check at
    import (see `accelerated`), else by `measure_python`; both give the same result.
    """
    if _walk is None:
        return measure_python(root)
    return measured_of(_walk.measure(root))


def measured_of(columns: tuple[Any, ...]) -> Measured:
    """The C walk's columns as `Measured` (its element sequence answers `names`)."""
    measured = Measured(*columns)
    measured.names = columns[0].names
    measured.index_of = columns[0].index_of
    return measured


def measure_python(root: LexborNode) -> Measured:
    """Walk the tree under `root` once and measure every element, in Python.

    The walk is lexbor's own depth-first `traverse()`, which yields every node in document order
    from C, without the text nodes that are only ASCII whitespace (two thirds of them on the
    corpus; they count for nothing). `traverse()` cannot skip a subtree or say where one ends,
    so the walk keeps its own stack of open elements: a node whose parent is not the innermost
    open element closes open elements until it is. Nodes under a skipped element are passed
    over. The walk only notes where each element's subtree starts and ends among the text
    runs; the characters are counted afterwards, for all runs at once (0.5 ms a page less than
    counting node by node).
    """
    out = Measured()
    nodes: list[LexborNode] = []
    out.nodes = nodes
    out.names = partial(names_python, nodes)
    out.index_of = out.by_id.get
    parents, uppers = out.parent, out.block_parent
    runs_start, runs_end, by_id, texts = out.runs_start, out.runs_end, out.by_id, out.texts
    blocks: list[int] = []  # per text run, the element whose `own` text it is
    # tag_id -> kind for this document. Unknown tags (`o:p`, custom elements) get ids that are
    # only unique within one document, so the cache cannot outlive the walk.
    kinds: dict[int, int] = {}
    # The context to restore when the innermost open element closes: the mem_id of the element
    # open before it, then the parent, in_link, block and skipping values below.
    stack: list[tuple[int, int, bool, int, bool]] = []
    above = root.parent
    top = above.mem_id if above is not None else 0  # the innermost open element's mem_id
    # Context of the node being visited: its parent's index, whether it is inside <a>, the
    # index of the element that owns its text (the nearest block, else the root) and whether it
    # is under a skipped element.
    parent, in_link, block, skipping = -1, False, -1, False
    for node in root.traverse(include_text=True, skip_empty=True):
        try:
            up = node.parent.mem_id  # type: ignore[union-attr]
        except AttributeError:  # a root without a parent (a detached node)
            up = top
        while up != top:
            if not skipping:  # the element closing is `parent`
                runs_end[parent] = len(texts)
            top, parent, in_link, block, skipping = stack.pop()
        tag_id = node.tag_id
        if tag_id == _TEXT_ID:
            if not skipping:
                content = node.text_content or ""
                if content.strip(_SPACE_CHARS):  # a run of NBSP or U+3000 counts for nothing
                    texts.append((content, parent, in_link))
                    blocks.append(block)
            continue
        kind = kinds.get(tag_id)
        if kind is None:
            kind = kinds[tag_id] = _kind(node)
        stack.append((top, parent, in_link, block, skipping))
        top = node.mem_id
        if skipping or kind == _SKIP:
            skipping = True
            continue
        index = len(nodes)
        by_id[top] = index
        nodes.append(node)
        parents.append(parent)
        uppers.append(block)
        runs = len(texts)
        runs_start.append(runs)
        runs_end.append(runs)
        parent = index
        # Only `<a href>` is a link. An anchor left open (`<a name=top1>`, which the parser
        # reopens in every block after it) would make a whole forum post "link text": on a
        # corpus forum page the post then lost to the footer (body F1 0.00 -> 0.94; no page
        # changes otherwise).
        # (`in node.attrs`: 0.17 us where the attribute is there, as it mostly is; building
        # `node.attributes` costs 0.34 us.)
        if kind == _LINK and "href" in node.attrs:
            in_link = True
        if kind == _BLOCK or block < 0:
            block = index
    while stack:  # close what is still open
        if not skipping:
            runs_end[parent] = len(texts)
        top, parent, in_link, block, skipping = stack.pop()
    _count(out, blocks)
    return out


def names_python(nodes: Sequence[LexborNode], index: int) -> str:
    """The class and id of element `index` of `nodes`, as "class id"."""
    attrs = nodes[index].attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}"


def _count(out: Measured, blocks: list[int]) -> None:
    """Fill in the character counts of `out`'s elements from its text runs."""
    texts = out.texts
    contents = [content for content, _, _ in texts]
    joined = "\0".join(contents)
    for space in _SPACE_CHARS:
        joined = joined.replace(space, "")
    spaceless = joined.split("\0")
    for mark in _PUNCT:
        joined = joined.replace(mark, "")
    sizes = list(map(len, spaceless))
    puncts = list(map(sub, sizes, map(len, joined.split("\0"))))
    if len(sizes) != len(texts):  # no runs, or a NUL in a text node after all
        sizes = [len(c) - sum(map(c.count, _SPACE_CHARS)) for c in contents]
        puncts = [sum(map(c.count, _PUNCT)) for c in contents]
    own = out.own = [0] * len(out.nodes)
    own_punct = out.own_punct = [0] * len(out.nodes)
    for block, size, punct in zip(blocks, sizes, puncts, strict=True):
        own[block] += size
        own_punct[block] += punct
    # An element's counts are those of its runs: differences of running totals.
    chars = [0, *accumulate(sizes)]
    in_link = [in_link for _, _, in_link in texts]
    linked = [0, *accumulate(map(mul, sizes, in_link))]  # a size times False is 0
    marks = [0, *accumulate(puncts)]
    spans = list(zip(out.runs_start, out.runs_end, strict=True))
    out.text = [chars[end] - chars[start] for start, end in spans]
    out.links = [linked[end] - linked[start] for start, end in spans]
    out.punct = [marks[end] - marks[start] for start, end in spans]
    if len(texts) > MAX_TEXTS:  # only the first MAX_TEXTS runs are kept
        del texts[MAX_TEXTS:]
        out.runs_start = [min(run, MAX_TEXTS) for run in out.runs_start]
        out.runs_end = [min(run, MAX_TEXTS) for run in out.runs_end]


# --- lines: the text under an element, as lines with their heading level ------------------

# What `lines` does at an element, as bits (the C walk reads them): <br> ends the line, <strong>
# and <b> are bold, a block element ends the line before it and after it, with its heading level
# (bits 3-4) in force inside it; <h1> may be the headline.
_LINE_BR, _LINE_BOLD, _LINE_BLOCK, _LINE_H1 = 1, 2, 4, 64

Line = tuple[str, int, bool]  # the text as it stands, its level (0: none in force), all in bold


def _line_kind(node: LexborNode) -> int:
    tag = node.tag or ""
    if tag == "br":
        return _LINE_BR
    if tag in ("strong", "b"):
        return _LINE_BOLD
    if tag in BLOCK_TAGS:
        return _LINE_BLOCK | HEADING_TAGS.get(tag, 0) << 3 | (_LINE_H1 if tag == "h1" else 0)
    return 0


def lines(
    root: LexborNode,
    measured: Measured,
    furniture: Callable[[int], bool],
    is_title: Callable[[LexborNode], bool] | None,
    budget: int,
) -> list[Line]:
    """The lines of text under `root`, in order: what a block element or `<br>` separates.

    Elements that `measured` did not measure (dropped tags) are skipped with what they hold,
    as are those (but `root`) for which `furniture(index)` is true, and an `<h1>` for which
    `is_title(node)` is. Text runs are taken as they are (whitespace-only runs separate
    words) until `budget` characters have been taken. The walk is in C where `measure`'s is.
    """
    first = measured.index_of(root.mem_id)
    if _walk is None:
        return lines_python(root, measured.by_id, first, furniture, is_title, budget)
    # The C walk's elements find an index themselves; a Python walk's have `by_id`.
    elements = measured.by_id if isinstance(measured.nodes, list) else measured.nodes
    found = _walk.lines(root, elements, first, furniture, _line_kind, is_title, budget)
    return cast(list[Line], found)


def lines_python(
    root: LexborNode,
    by_id: dict[int, int],
    first: int | None,
    furniture: Callable[[int], bool],
    is_title: Callable[[LexborNode], bool] | None,
    budget: int,
) -> list[Line]:
    """`lines` in Python."""
    out: list[Line] = []
    parts: list[str] = []
    bold: list[int] = [0, 0]  # characters in <strong>/<b> on the current line, all characters

    def flush(level: int = 0) -> None:
        if not parts:  # most flushes (every block's start and end): no text, no bold counted
            return
        out.append(("".join(parts), level, bold[0] > 0 and bold[0] >= bold[1]))
        parts.clear()
        bold[0] = bold[1] = 0

    # The walk is lexbor's `traverse()` with a stack of open elements, as in `measure_python`
    # (whitespace-only text nodes included: they separate words). The context of the node being
    # visited: the innermost open element's mem_id, the heading level in force, whether it is
    # inside bold, whether it is under a skipped element, and whether closing that element ends
    # a block (flushing the line with the level).
    kinds: dict[int, int] = {}  # tag_id -> `_line_kind`, for this document
    stack: list[tuple[int, int, bool, bool, bool]] = []
    above = root.parent
    top = above.mem_id if above is not None else 0
    level, in_bold, skipping, ends_block = 0, False, False, False
    for node in root.traverse(include_text=True):
        try:
            up = node.parent.mem_id  # type: ignore[union-attr]
        except AttributeError:  # a root without a parent (a detached node)
            up = top
        while up != top:
            if ends_block:
                flush(level)
            top, level, in_bold, skipping, ends_block = stack.pop()
        tag_id = node.tag_id
        if tag_id == _TEXT_ID:
            if skipping:
                continue
            content = (node.text_content or "")[:budget]
            budget -= len(content)
            parts.append(content)
            if budget <= 0:
                break
            size = len(content.strip())
            bold[1] += size
            if in_bold:
                bold[0] += size
            continue
        stack.append((top, level, in_bold, skipping, ends_block))
        top = node.mem_id
        ends_block = False
        if skipping:
            continue
        kind = kinds.get(tag_id)
        if kind is None:
            kind = kinds[tag_id] = _line_kind(node)
        if kind & _LINE_BR:
            flush()
            continue
        index = by_id.get(top)
        if index is None or (index != first and furniture(index)):
            skipping = True  # dropped tags, comments and furniture, with what they hold
            continue
        if kind & _LINE_BLOCK:
            flush()
            level = (kind >> 3 & 3) or level
            if kind & _LINE_H1 and is_title is not None and is_title(node):
                skipping = True
                continue
            ends_block = True
        if kind & _LINE_BOLD:
            in_bold = True
    else:  # the walk ended with elements open: they close now (not after running out of budget)
        while stack:
            if ends_block:
                flush(level)
            top, level, in_bold, skipping, ends_block = stack.pop()
    flush()
    return out


def many_block_tags(html: str, limit: int) -> bool:
    """Whether `html` has at least `limit` tags and `limit` of `<div`, `<DIV` and `<li`.

    In C where the accelerator is (0.14 -> 0.05 ms a corpus page: str.count stops at each match).
    """
    if _walk is None:
        return many_block_tags_python(html, limit)
    return cast(bool, _walk.many_block_tags(html, limit))


def many_block_tags_python(html: str, limit: int) -> bool:
    """`many_block_tags` in Python."""
    if html.count("<") < limit:
        return False
    return html.count("<div") + html.count("<DIV") + html.count("<li") >= limit


def _accelerator() -> ModuleType | None:
    """The C walk (`_walk.c`), configured, or None where it is not built or fails its check.

    The C walk reads selectolax's node objects and lexbor's nodes directly. `configure` checks
    every field it reads on a probe page parsed by the selectolax in use, and a second check here
    compares its result with the Python walk's, so that a selectolax with other layouts falls
    back to Python instead of reading wrong memory. XINWEN_PURE_PYTHON=1 skips it.
    """
    if os.environ.get("XINWEN_PURE_PYTHON"):
        return None
    try:
        from . import _walk
    except ImportError:  # not built (no compiler at install): the Python walk
        return None
    import selectolax.lexbor

    probe = LexborHTMLParser(_PROBE)
    div, p, b = (probe.css_first(tag) for tag in ("div", "p", "b"))
    root = probe.root
    if div is None or p is None or b is None or p.first_child is None or root is None:
        return None
    ids = (div.mem_id, p.mem_id, p.first_child.mem_id, b.mem_id, div.tag_id, p.tag_id)
    try:
        _walk.configure(div, ids, _kind, selectolax.lexbor.__file__, MAX_TEXTS)
        same = astuple_of(measured_of(_walk.measure(root))) == astuple_of(measure_python(root))
    except (RuntimeError, TypeError, ValueError) as exc:
        _log.warning("the C tree walk is not used: %s", exc)
        return None
    if not same:
        _log.warning("the C tree walk is not used: it measured the probe page differently")
        return None
    return _walk


def astuple_of(measured: Measured) -> tuple[object, ...]:
    """`measured`'s columns in field order, nodes as their mem_ids (for comparing two walks)."""
    columns: list[object] = [getattr(measured, name) for name in Measured.__slots__]
    columns[0] = [node.mem_id for node in measured.nodes]
    columns[-2] = [measured.names(index) for index in range(len(measured.nodes))]
    columns[-1] = [measured.index_of(node.mem_id) for node in measured.nodes]
    columns[Measured.__slots__.index("by_id")] = None  # (the C walk keeps no dict)
    return tuple(columns)


# Every kind of node and context the walk handles: <div><p>x</p><b>y</b></div> first (the
# layout check), then a link with and without href, a comment, a dropped tag, a custom tag,
# NBSP and ideographic spaces, punctuation, nested blocks and an inline wrapper.
_PROBE = (
    "<div><p>x</p><b>y</b></div>"
    "<section><a href='/a'>链接<i>文字</i></a><a name=top>锚点</a><!-- 注释 -->"
    "<script>var a = 1;</script><o:p>自定义</o:p><font><p>\u00a0段落，一。\u3000</p></font>"
    "<ul><li>甲、乙</li><li> </li></ul><template><p>模板</p></template></section>"
)
_walk = _accelerator()
accelerated = _walk is not None  # whether `measure` walks in C
