"""Search latency and index size on a large synthetic archive built from the corpus texts.

Run from the repository root::

    .venv/bin/python bench/search.py                         # 100,000 articles, ~3 minutes
    .venv/bin/python bench/search.py --articles 20000 --queries 50
    .venv/bin/python bench/search.py --db /tmp/bench.db      # keep the archive; reuse it next time

The articles are made by recombining the body paragraphs of the shared corpus (extracted and
converted to simplified by xinwen itself, so the text is what a crawl would store): each gets a
title cut from one paragraph and 5 to 30 random paragraphs as its body. No corpus page is
copied anywhere; the archive is written to a temporary directory unless `--db` is given.

The archive is made with `Archive` (so it has the real schema, triggers included), then the
article rows go in with one bulk `executemany`, skipping the extractor, and the index is built
by the same `sync()` that indexes a crawled article. Queries are substrings of 2, 4 and 8 Han
characters (and 1, for information) cut at random from the paragraphs, seeded; each is timed
through `Archive.search` (journal check, ranking, reading the 20 best and their snippets).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from xinwen import Archive, extract
from xinwen.errors import ArchiveError
from xinwen.store import search

REPO = Path(__file__).resolve().parents[1]
SITES = [f"site{n:02d}.example.com" for n in range(20)]
CATEGORIES = ["财经", "银行逾期", "信用卡", "宏观", "科技", "社会", "国际", "房产", "汽车", "教育"]
_HAN_RUN_RE = re.compile("[\u4e00-\u9fff]+")


def default_corpus() -> Path:
    """The corpus path: $XINWEN_CORPUS, else ``../shared/corpus`` next to the repository."""
    env = os.environ.get("XINWEN_CORPUS")
    return Path(env) if env else REPO.parent / "shared" / "corpus"


def paragraphs(corpus: Path) -> list[str]:
    """The body paragraphs (10 characters or more) of every corpus page xinwen can extract."""
    found: list[str] = []
    for page in sorted((corpus / "pages").glob("*.html")):
        try:
            article = extract(page.read_bytes(), url="https://corpus.example.com/a.html")
        except ArchiveError:
            continue
        found += [line for line in article.body.splitlines() if len(line) >= 10]
    return found


def synthetic_rows(pool: list[str], count: int, seed: int) -> Iterator[tuple[object, ...]]:
    """Rows for `article`: title from one paragraph, 5 to 30 random paragraphs as the body."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        body = "\n".join(rng.choice(pool) for _ in range(rng.randint(5, 30)))
        title = rng.choice(pool)[: rng.randint(8, 24)]
        site = rng.choice(SITES)
        day = f"{rng.randint(2020, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        yield (
            f"https://{site}/a/{number}.html", site, title, rng.choice(CATEGORIES),
            f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+08:00", "zh-Hans", body,
            f"{number:064x}", "utf-8", "default", "{}", "[]", f"{day} 00:00:00", f"{day} 00:00:00",
        )  # fmt: skip


_INSERT = (
    "INSERT INTO article (url, site, title, category, published_at, lang_original, body,"
    " content_hash, encoding, encoding_source, extracted_by, flags, first_seen_at,"
    " last_fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def build(db: Path, pool: list[str], count: int, seed: int) -> tuple[float, float]:
    """Create the archive: bulk insert, then index. Returns (insert seconds, index seconds)."""
    with Archive(db) as archive:  # the schema, the index and its triggers
        started = time.perf_counter()
        with archive.engine.begin() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            rows = synthetic_rows(pool, count, seed)
            while batch := [row for _, row in zip(range(5000), rows, strict=False)]:
                raw.executemany(_INSERT, batch)
        inserted = time.perf_counter()
        with archive.engine.begin() as connection:
            search.sync(connection)  # the journal the insert trigger wrote: 1 entry per article
        indexed = time.perf_counter()
    return inserted - started, indexed - inserted


def queries(pool: list[str], length: int, count: int, seed: int) -> list[str]:
    """`count` substrings of `length` Han characters cut at random from the paragraphs."""
    rng = random.Random(seed * 1000 + length)
    found: list[str] = []
    while len(found) < count:
        runs = [run for run in _HAN_RUN_RE.findall(rng.choice(pool)) if len(run) >= length]
        if runs:
            run = rng.choice(runs)
            start = rng.randint(0, len(run) - length)
            found.append(run[start : start + length])
    return found


def sizes(db: Path) -> dict[str, int]:
    """Bytes used by the article table, the search index and the whole file (dbstat)."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    by_name = dict(rows)
    index = sum(size for name, size in by_name.items() if name.startswith(search.TABLE))
    return {"article": by_name.get("article", 0), "index": index, "file": db.stat().st_size}


def measure(archive: Archive, texts: list[str], **filters: str) -> tuple[float, float, int]:
    """Median and p95 latency in ms of `Archive.search` over `texts`, and the median hits."""
    timings: list[float] = []
    matches: list[int] = []
    for query in texts:
        started = time.perf_counter()
        archive.search(query, **filters)
        timings.append((time.perf_counter() - started) * 1000)
        expression = search.match_expression(query)
        (row,) = archive.query(
            f"SELECT count(*) AS n FROM {search.TABLE} WHERE {search.TABLE} MATCH :q",
            {"q": expression},
        )
        matches.append(row["n"])
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    return statistics.median(timings), p95, int(statistics.median(matches))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="synthetic articles")
    parser.add_argument("--queries", type=int, default=100, help="queries per length")
    parser.add_argument("--db", type=Path, help="archive path (kept; reused if it exists)")
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not (args.corpus / "pages").is_dir():
        print(f"corpus not found at {args.corpus}: set XINWEN_CORPUS or pass --corpus")
        return 0
    pool = paragraphs(args.corpus)
    print(f"{len(pool)} corpus paragraphs; SQLite {__import__('sqlite3').sqlite_version}")
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or Path(scratch) / "bench.db"
        if db.exists():
            print(f"reusing {db}")
        else:
            insert_s, index_s = build(db, pool, args.articles, args.seed)
            print(f"built {args.articles} articles: insert {insert_s:.1f} s, index {index_s:.1f} s")
        size = sizes(db)
        mb = 1024 * 1024
        print(
            f"article table {size['article'] / mb:.0f} MiB, search index {size['index'] / mb:.0f}"
            f" MiB ({size['index'] / size['article']:.2f}x), file {size['file'] / mb:.0f} MiB"
        )
        with Archive(db) as archive:
            archive.search("预热")  # the first query opens the connection pool
            print(
                "\n| query | median ms | p95 ms | median matches (all sites) |\n|---|---|---|---|"
            )
            for length in (1, 2, 4, 8):
                texts = queries(pool, length, args.queries, args.seed)
                median, p95, hits = measure(archive, texts)
                print(f"| {length} characters | {median:.1f} | {p95:.1f} | {hits} |")
            texts = queries(pool, 2, args.queries, args.seed)
            median, p95, hits = measure(archive, texts, site=SITES[0])
            print(f"| 2 characters, one site | {median:.1f} | {p95:.1f} | {hits} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
