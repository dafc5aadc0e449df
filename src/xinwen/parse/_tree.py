"""One pass over a Lexbor tree that measures every element, for the scorers to use.

The walk is iterative (80,000 nested divs must not hit Python's recursion limit) and visits each
node once: per element it records the length of its text, of its link text, of the text that is
its own (not inside a nested block) and the Chinese punctuation in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
_PUNCT = "，。！？；：、"
# Text nodes kept for the date and info-line search (the rest is only measured).
MAX_TEXTS = 20000


@dataclass(slots=True)
class Stats:
    """Measurements of one element and its subtree."""

    node: LexborNode
    parent: int  # index of the parent element's Stats, -1 for the root
    depth: int
    text: int = 0  # characters in the subtree (spaces excluded)
    links: int = 0  # characters of those inside <a>
    own: int = 0  # characters not inside a nested block element
    own_punct: int = 0
    punct: int = 0
    score: float = 0.0
    last: int = 0  # index of the last element in this one's subtree (stats are in document order)
    runs_start: int = 0  # this subtree's text runs are measured.texts[runs_start:runs_end]
    runs_end: int = 0


@dataclass(slots=True)
class Measured:
    """The result of the walk: element stats, in document order, and the page's text runs."""

    stats: list[Stats] = field(default_factory=list)
    by_id: dict[int, int] = field(default_factory=dict)  # node.mem_id -> index in stats
    texts: list[tuple[str, int, bool]] = field(default_factory=list)  # (text, element, in <a>)


# What the walk does with a node, decided once per tag per walk (see `_kind`).
_SKIP = 0  # comments, doctypes, dropped tags: the node and its subtree are not measured
_TEXT = 1
_INLINE = 2
_BLOCK = 3
_LINK = 4  # <a>: inline, and its text counts as link text

# Characters that `text` does not count, and the punctuation that `punct` counts. On the
# corpus's text nodes, len(findall) over a character class counts them 3x faster than the
# str.translate deletion tables it replaces (1.15 -> 0.37 ms/page); two thirds of the nodes are
# layout whitespace only, which `str.strip` rejects first. Past _SHORT_TEXT characters one
# str.count per character is faster still and allocates nothing: on a 10-million-character text
# node, 25 ms against 1.8 s (findall, 44 MB of matches) and 5.9 s (translate).
_SPACE_CHARS = " \n\t\r\u3000\u00a0"
_SPACE_RE = re.compile(f"[{_SPACE_CHARS}]")
_PUNCT_RE = re.compile(f"[{_PUNCT}]")
_SHORT_TEXT = 200


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

    The walk is lexbor's own depth-first `traverse()`, which yields every node in document order
    from C. The previous walk, a Python stack fed by `iter()` per element (a generator, a list
    and a tuple per node), took 3.4 ms per corpus page; this one takes 1.8 ms (garbage
    collection off; with it, 4.1 -> 2.2 ms inside `extract`). `traverse()` cannot skip a subtree
    or say where one ends, so the walk keeps its own stack of open elements: an element closes
    when its last child (`last_child`, asked once per element) has closed. Nodes under a skipped
    element are passed over, as the previous walk never reached them.
    """
    out = Measured()
    stats = out.stats
    texts = out.texts
    by_id = out.by_id
    # tag_id -> kind for this document. Unknown tags (`o:p`, custom elements) get ids that are
    # only unique within one document, so the cache cannot outlive the walk.
    kinds: dict[int, int] = {}
    # Open elements that have children: the mem_id of the last child, then the context to
    # restore on closing (the element's own mem_id, parent, depth, in_link, block, skipping) and
    # the running totals when it opened. The bottom entry is a sentinel that nothing closes
    # (mem_ids are addresses, never 0).
    stack: list[tuple[int, int, int, int, bool, int, bool, int, int, int]] = [
        (0, 0, -1, 0, False, -1, False, 0, 0, 0)
    ]
    closes = 0  # stack[-1][0]: the node whose closing closes the innermost open element
    # Context of the node being visited: its parent's index in stats, its depth, whether it is
    # inside <a>, the index of the element that owns its text (the nearest block, else the root)
    # and whether it is under a skipped element.
    parent, depth, in_link, block, skipping = -1, 0, False, -1, False
    # Running totals over the page so far (text characters, those in links, punctuation): an
    # element's subtree totals are what they grew by between its opening and its closing, so no
    # count is added up the tree.
    chars = linked = puncts = 0
    for node in root.traverse(include_text=True):
        tag_id = node.tag_id
        if tag_id == _TEXT_ID:
            if not skipping and parent >= 0:
                content = node.text_content or ""
                if content.strip(_SPACE_CHARS):
                    if len(content) <= _SHORT_TEXT:
                        size = len(content) - len(_SPACE_RE.findall(content))
                        punct = len(_PUNCT_RE.findall(content))
                    else:
                        size = len(content) - sum(map(content.count, _SPACE_CHARS))
                        punct = sum(map(content.count, _PUNCT))
                    chars += size
                    puncts += punct
                    if in_link:
                        linked += size
                    owner = stats[block]
                    owner.own += size
                    owner.own_punct += punct
                    if len(texts) < MAX_TEXTS:
                        texts.append((content, parent, in_link))
            if node.mem_id != closes:
                continue  # not the last child of its parent: nothing closes
            done = closes
        else:
            kind = kinds.get(tag_id)
            if kind is None:
                kind = kinds[tag_id] = _kind(node)
            last_child = node.last_child
            done = node.mem_id
            if skipping or kind == _SKIP:
                if last_child is not None:
                    closes = last_child.mem_id
                    stack.append((closes, done, parent, depth, in_link, block, skipping, 0, 0, 0))
                    depth += 1
                    skipping = True
                    continue
            else:
                index = len(stats)
                by_id[done] = index
                runs = len(texts)
                if last_child is None:  # closes at once, having measured nothing
                    stats.append(Stats(node, parent, depth, 0, 0, 0, 0, 0, 0.0, index, runs, runs))
                else:
                    stats.append(Stats(node, parent, depth, 0, 0, 0, 0, 0, 0.0, 0, runs, 0))
                    closes = last_child.mem_id
                    stack.append(
                        (closes, done, parent, depth, in_link, block, False, chars, linked, puncts)
                    )
                    parent = index
                    depth += 1
                    in_link = in_link or kind == _LINK
                    if kind == _BLOCK or block < 0:
                        block = index
                    continue
        # Node `done` has closed, and with it every open element whose last child it was.
        while done == closes:
            _, done, up, depth, in_link, block, was_skipping, text, links, punct = stack.pop()
            if not skipping:  # the element closing is `parent`
                closed = stats[parent]
                closed.text = chars - text
                closed.links = linked - links
                closed.punct = puncts - punct
                closed.last = len(stats) - 1
                closed.runs_end = len(texts)
            parent, skipping = up, was_skipping
            closes = stack[-1][0]
    return out
