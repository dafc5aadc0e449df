"""xinwen: scrape and archive Chinese-language news articles.

>>> import xinwen
>>> article = xinwen.extract(page_bytes, url="https://news.example.com/a/1.html")  # doctest: +SKIP
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .errors import ArchiveError

if TYPE_CHECKING:
    from .pipeline import crawl, extract
    from .record import Article, Section
    from .rules import load_rules
    from .store import Archive

# Imported on first use, not with the package: a parse worker process (`xinwen.workers`) needs
# the parser alone, and loading the database and HTTP stack too would cost each worker ~60 MB,
# pydantic and the record's models (`Article`, `Section`) 15 MB.
_LAZY = {
    "crawl": "pipeline",
    "extract": "pipeline",
    "load_rules": "rules",
    "Archive": "store",
    "Article": "record",
    "Section": "record",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Archive",
    "ArchiveError",
    "Article",
    "Section",
    "__version__",
    "crawl",
    "extract",
    "load_rules",
]
