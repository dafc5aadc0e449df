"""One pass over a Lexbor tree that measures every element, for the scorers to use.

The walk is iterative (80,000 nested divs must not hit Python's recursion limit) and visits each
node once: per element it records the length of its text, of its link text, of the text that is
its own (not inside a nested block) and the Chinese punctuation in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

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


# Deletion tables: len(text.translate(table)) counts in C what a generator would count in Python.
_NO_SPACE = str.maketrans("", "", " \n\t\r\u3000\u00a0")
_PUNCT_TABLE = str.maketrans("", "", _PUNCT)


def measure(root: LexborNode) -> Measured:
    """Walk the tree under `root` once and measure every element."""
    out = Measured()
    stats = out.stats
    # Stack entries: (node, parent index, depth, inside-link, block index) or an exit marker.
    stack: list[tuple[LexborNode | None, int, int, bool, int]] = [(root, -1, 0, False, -1)]
    while stack:
        node, parent, depth, in_link, block = stack.pop()
        if node is None:  # exit marker: fold this element's totals into its parent
            done = stats[parent]
            done.last = len(stats) - 1
            done.runs_end = len(out.texts)
            if done.parent >= 0:
                up = stats[done.parent]
                up.text += done.text
                up.links += done.links
                up.punct += done.punct
            continue
        tag = node.tag
        if tag == "-text":
            content = node.text_content or ""
            size = len(content.translate(_NO_SPACE))
            if size and parent >= 0:
                punct = len(content) - len(content.translate(_PUNCT_TABLE))
                here = stats[parent]
                here.text += size
                here.punct += punct
                if in_link:
                    here.links += size
                owner = stats[block]
                owner.own += size
                owner.own_punct += punct
                if len(out.texts) < MAX_TEXTS:
                    out.texts.append((content, parent, in_link))
            continue
        if tag is None or tag.startswith("-") or tag in DROP_TAGS:
            continue
        index = len(stats)
        stats.append(Stats(node, parent, depth, runs_start=len(out.texts)))
        out.by_id[node.mem_id] = index
        own_block = index if (tag in BLOCK_TAGS or block < 0) else block
        stack.append((None, index, depth, in_link, block))
        children = list(node.iter(include_text=True))
        link = in_link or tag == "a"
        for child in reversed(children):
            stack.append((child, index, depth + 1, link, own_block))
    return out
