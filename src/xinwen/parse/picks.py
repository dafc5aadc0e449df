"""The extractor's whole-document queries, answered together in one walk of the tree.

Lexbor's selector engine visits every node of the document for each query, whatever the query
asks: ~0.12 ms a corpus page for `h1` as for a list of twelve substring tests, and the extractor
makes five (the metadata, headline candidates, breadcrumb names, the next-page links, all links).
Each such query is declared here twice: as CSS, and as the few simple tests it is made of
(a tag, an attribute present, equal to or containing a value). Where the C walk is built,
`pick` answers all the queries of a call in one walk of the tree (0.1 ms); elsewhere each is
asked of Lexbor as CSS when first needed. tests/test_walk.py checks that both give the same
elements, in the same order, on the corpus and on crafted pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from . import _tree

HAS, EQUALS, CONTAINS = 0, 1, 2  # the tests of `_walk.c`
# Attributes whose values HTML compares without regard to ASCII case in selectors (Lexbor does
# too: `a[rel="next"]` finds rel=NEXT); EQUALS compares that way, so it is allowed only on these.
_CASELESS = frozenset({"rel", "type"})

Test = tuple[str, int, tuple[str, ...]]  # attribute, HAS/EQUALS/CONTAINS, values (any of them)


@dataclass(frozen=True)
class Selector:
    """One selector of a query's list: an element with this tag (None: any) passing every test."""

    tag: str | None
    tests: tuple[Test, ...] = ()

    def __post_init__(self) -> None:
        for name, op, values in self.tests:
            if op == EQUALS and name not in _CASELESS:
                raise ValueError(f"EQUALS compares without case; [{name}=...] would not")
            if (op == HAS) == bool(values) or not all(values):
                raise ValueError(f"bad values for [{name}]: {values!r}")


@dataclass(frozen=True)
class Query:
    """A whole-document query: `css`, and the same as `selectors` for the C walk."""

    css: str
    selectors: tuple[Selector, ...] = field(compare=False)


def _tag_ids() -> dict[str, int]:
    tree = LexborHTMLParser("<meta><link><script></script><a></a><h1></h1><h2></h2><h3></h3>")
    ids = {}
    for tag in ("meta", "link", "script", "a", "h1", "h2", "h3"):
        node = tree.css_first(tag)
        if node is None:
            raise RuntimeError(f"selectolax did not parse <{tag}>")
        ids[tag] = node.tag_id
    return ids


_TAG_IDS = _tag_ids()


@cache  # built once per query, not for every page
def _spec(query: Query) -> tuple[tuple[int, tuple[tuple[bytes, int, tuple[bytes, ...]], ...]], ...]:
    return tuple(
        (
            _TAG_IDS[selector.tag] if selector.tag else -1,
            tuple(
                (name.encode(), op, tuple(value.encode() for value in values))
                for name, op, values in selector.tests
            ),
        )
        for selector in query.selectors
    )


class Picked:
    """The elements each query finds in one tree, in document order, an element once for each
    selector of the list it matches (as Lexbor lists them)."""

    def __init__(self, tree: LexborHTMLParser, queries: tuple[Query, ...]) -> None:
        self._tree = tree
        self._found: dict[Query, list[LexborNode]] = {}
        walk, root = _tree._walk, tree.root
        if walk is not None and root is not None:
            answers = walk.select(root, tuple(_spec(query) for query in queries))
            self._found = dict(zip(queries, answers, strict=True))

    def __getitem__(self, query: Query) -> list[LexborNode]:
        found = self._found.get(query)
        if found is None:
            found = self._found[query] = self._tree.css(query.css)
        return found


def pick(tree: LexborHTMLParser, *queries: Query) -> Picked:
    """The answers to `queries` in `tree` (found now, in one walk, where the C walk is built).

    The tree must not change while they are used: a query that removes elements is made first.
    """
    return Picked(tree, queries)


# Every link: the crawler's links and the pager's labelled links read it.
LINKS = Query("a[href]", (Selector("a", (("href", HAS, ()),)),))
