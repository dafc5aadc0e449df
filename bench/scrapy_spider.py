"""The peer that bench/crawl.py measures xinwen against: a hand-rolled Scrapy crawl of the site.

Two modes, both following index -> list pages -> articles by URL shape, as a user's spider would:

- ``full``: what users hand-roll: Scrapy fetches, ``trafilatura.bare_extraction`` (with metadata)
  extracts each article, and an item pipeline inserts it into SQLite, one commit per item.
- ``fetch``: Scrapy alone, the same crawl with no extraction and no storage (a ceiling).

Run by bench/crawl.py as its own process::

    .venv/bin/python bench/scrapy_spider.py --mode full --start http://127.0.0.1:8080/ \\
        --db /tmp/scrapy.db --concurrency 16 --stats /tmp/stats.json

Writes a JSON object to ``--stats``: pages (responses handled), articles (rows stored), the
crawl's own elapsed seconds (spider opened -> closed), and Scrapy's error counts.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

SCHEMA = """CREATE TABLE IF NOT EXISTS article (
    id INTEGER PRIMARY KEY, url TEXT UNIQUE, title TEXT, author TEXT, date TEXT,
    sitename TEXT, categories TEXT, text TEXT, fetched_at REAL)"""


class SitePipeline:
    """Insert each article into SQLite, one commit per item (the common tutorial shape)."""

    def open_spider(self, spider: scrapy.Spider) -> None:
        self.db = sqlite3.connect(spider.settings["BENCH_DB"])
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)
        self.stored = 0

    def close_spider(self, spider: scrapy.Spider) -> None:
        self.db.close()
        spider.crawler.stats.set_value("bench/stored", self.stored)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.db.execute(
            "INSERT OR REPLACE INTO article (url, title, author, date, sitename, categories,"
            " text, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item["url"], item["title"], item["author"], item["date"], item["sitename"],
             item["categories"], item["text"], time.time()),
        )  # fmt: skip
        self.db.commit()
        self.stored += 1
        return item


class SiteSpider(scrapy.Spider):
    """index -> /list/*.html -> /news/**.html; articles extracted with trafilatura in ``full``."""

    name = "bench"

    def __init__(self, start: str, mode: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start]
        self.mode = mode

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        self.crawler.stats.inc_value("bench/pages")
        for href in response.css("a::attr(href)").getall():
            if "/list/" in href:
                yield response.follow(href, self.parse)
            elif "/news/" in href:
                yield response.follow(href, self.parse_article)

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        self.crawler.stats.inc_value("bench/pages")
        if self.mode != "full":
            return
        import trafilatura

        doc = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
        if doc is None:
            return
        data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
        yield {
            "url": response.url,
            "title": data.get("title"),
            "author": data.get("author"),
            "date": data.get("date"),
            "sitename": data.get("sitename"),
            "categories": json.dumps(data.get("categories") or [], ensure_ascii=False),
            "text": data.get("text"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["full", "fetch"], required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--stats", type=Path, required=True)
    args = parser.parse_args()
    settings: dict[str, Any] = {
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": True,  # as `scrapy startproject` sets it, and as xinwen does
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "BENCH_DB": str(args.db),
    }
    if args.mode == "full":
        settings["ITEM_PIPELINES"] = {SitePipeline: 300}
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, start=args.start, mode=args.mode)
    process.start()
    stats = crawler.stats.get_stats()
    elapsed = (stats["finish_time"] - stats["start_time"]).total_seconds()
    prefixes = ("spider_exceptions/", "downloader/exception_type")
    errors = {k: v for k, v in stats.items() if k.startswith(prefixes)}
    result = {
        "pages": stats.get("bench/pages", 0),
        "articles": stats.get("bench/stored", 0),
        "elapsed": elapsed,
        "status_200": stats.get("downloader/response_status_count/200", 0),
        "errors": errors,
    }
    args.stats.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
