"""xinwen: scrape and archive Chinese-language news articles.

>>> import xinwen
>>> article = xinwen.extract(page_bytes, url="https://news.example.com/a/1.html")  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .errors import ArchiveError
from .models import Article, Section
from .pipeline import crawl, extract
from .rules import load_rules
from .store import Archive

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
