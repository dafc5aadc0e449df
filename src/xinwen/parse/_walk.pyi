# The C tree walk (_walk.c); see parse/_tree.py.
from collections.abc import Callable, Sequence

from selectolax.lexbor import LexborNode

def configure(
    sample: LexborNode,
    probe: tuple[int, int, int, int, int, int],
    kind: Callable[[LexborNode], int],
    library: str,
    max_texts: int,
) -> None: ...
def measure(
    root: LexborNode,
) -> tuple[
    Sequence[LexborNode],
    list[int],
    list[int],
    list[int],
    list[int],
    list[int],
    list[int],
    list[int],
    list[int],
    list[int],
    dict[int, int],
    list[tuple[str, int, bool]],
]: ...
def lines(
    root: LexborNode,
    by_id: Sequence[LexborNode] | dict[int, int],
    first: int | None,
    furniture: Callable[[int], bool],
    line_kind: Callable[[LexborNode], int],
    is_title: Callable[[LexborNode], bool] | None,
    budget: int,
) -> list[tuple[str, int, bool]]: ...
def many_block_tags(html: str, limit: int, /) -> bool: ...
def select(
    root: LexborNode,
    queries: tuple[tuple[tuple[int, tuple[tuple[bytes, int, tuple[bytes, ...]], ...]], ...], ...],
    /,
) -> tuple[list[LexborNode], ...]: ...
