"""The parse worker process's side of `workers.ParsePool`: decode and extract a page.

Kept apart from the pool (asyncio, subprocesses) so that a worker loads the parser and little
else. `parse_page` is the parse step itself (decode, then extract), also called in-process by
`xinwen.pipeline` where there is no crawl (`extract`, `explain`, `reparse`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from . import encoding, quality, urls
from .bigrams import index_text
from .errors import ExtractError
from .models import Article, Decoded, Extracted
from .rules import SiteRule, rule_for

if TYPE_CHECKING:
    from .parse.trace import Trace

Parsed = tuple[SiteRule | None, Decoded, Extracted]  # the rule used, the text, the fields
# An article page as it will be stored under the page's own URL, and the index text of its
# title and body (`prepare`).
Prepared = tuple[Article, str, str]


def _decode(data: bytes | str, content_type: str | None) -> Decoded:
    if isinstance(data, str):
        return Decoded(data, "utf-8", "str", 0)
    return encoding.decode(data, content_type)


def parse_page(
    data: bytes | str,
    url: str | None,
    rules: Sequence[SiteRule],
    content_type: str | None,
    trace: Trace | None = None,
    fetched_at: datetime | None = None,
    links: bool = False,
) -> Parsed:
    """Decode a page and extract its fields with the rule for its host (if any)."""
    # The parser (Lexbor and the extraction tables, 3 MB) is loaded on first use: a crawl's
    # own process never parses, only its workers do.
    from . import parse

    rule = rule_for(urls.host_of(url), rules) if url else None
    decoded = _decode(data, content_type)
    # Bytes that decoded as UTF-8 without a BOM or a replacement are the text's UTF-8 as they are.
    utf8 = (
        data
        if isinstance(data, bytes)
        and decoded.encoding == "utf-8"
        and decoded.source != "bom"
        and not decoded.errors
        else None
    )
    try:
        extracted = parse.extract(
            decoded.text, url, rule, trace, fetched_at, links=links, utf8=utf8
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExtractError(f"cannot parse the page: {exc}", url=url) from exc
    return rule, decoded, extracted


def site_of(url: str | None, rule: SiteRule | None) -> str:
    """The `site` an article from `url` is stored under: its rule's id, or its host."""
    if rule is not None:
        return rule.id
    return urls.host_of(url) if url else ""


def finish(
    extracted: Extracted, decoded: Decoded, url: str | None, rule: SiteRule | None
) -> Article:
    """The stored record of an extracted article: normalized, its quality measured."""
    # Loaded on first use, like the parser: a crawl's own process normalizes only the
    # multi-page articles (its workers normalize the rest, see `prepare`), and OpenCC's
    # tables stay out of it (3.6 MB).
    from . import normalize

    article = normalize.normalize(
        extracted, decoded, url=urls.canonical_url(url) if url else "", site=site_of(url, rule)
    )
    article = quality.assess(article, decoded)
    if extracted.truncated:
        article = article.model_copy(update={"flags": [*article.flags, "body_truncated"]})
    return article


def prepare(
    extracted: Extracted, decoded: Decoded, url: str, rule: SiteRule | None
) -> Prepared | None:
    """For an article page, done by a parse worker while the crawl's process fetches and
    stores: the article as stored under the page's own URL (`finish`) and its index text.
    None for a page that is not an article."""
    if not extracted.is_article:
        return None
    article = finish(extracted, decoded, url, rule)
    return article, index_text(article.title), index_text(article.body)


@lru_cache(maxsize=4096)
def _host_of_origin(origin: str) -> str:
    return urls.host_of(urls.canonical_url(origin + "/"))


def on_hosts(links: list[str], hosts: frozenset[str]) -> list[str]:
    """The links whose canonical host is in `hosts` (what `discover.follow` would keep).

    A page links mostly to a few other sites; the host of each scheme://netloc is worked out
    once, instead of canonicalizing every link of every page only to drop it.
    """
    kept = []
    for link in links:
        # scheme://netloc: up to the first / ? or # after `://` (a regex: 0.3 us a link, where
        # three finds and a min took 1.5).
        origin = _ORIGIN.match(link)
        if _host_of_origin(origin[0] if origin else link) in hosts:
            kept.append(link)
    return kept


_ORIGIN = re.compile(r".*?://[^/?#]*", re.S)


# --- the worker process --------------------------------------------------------------------------


def _serve(conn: Connection, rules: Sequence[SiteRule], target: Callable[..., Parsed]) -> None:
    """A worker's loop: one page in, one result out, until told to stop (None)."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the crawl has gone
        if job is None:
            return
        data, url, content_type, fetched_at, links, hosts, text, ready = job
        try:
            rule, decoded, extracted = target(
                data, url, rules, content_type, fetched_at=fetched_at, links=links
            )
            prepared = None
            if ready:
                try:
                    prepared = prepare(extracted, decoded, url, rule)
                except Exception:  # the crawl's process normalizes it, as before, errors and all
                    prepared = None
            if hosts is not None:
                extracted.links = on_hosts(extracted.links, hosts)
            if not text:
                decoded = replace(decoded, text="")
            index = rules.index(rule) if rule is not None else None
            reply: tuple[Any, ...] = ("ok", index, decoded, extracted, prepared)
        except ExtractError as exc:
            reply = ("error", type(exc).__name__, exc.args[0] if exc.args else "", exc.url)
        except Exception as exc:  # a parser bug: this page fails, the crawl goes on
            reply = ("error", "ExtractError", f"parser error: {type(exc).__name__}: {exc}", url)
        conn.send(reply)


def serve_fd(fd: int) -> None:
    """A worker process's entry point: serve the pool on the socket `fd` (see `_start`)."""
    conn = Connection(fd)
    target, rules = conn.recv()
    module, name = target.split(":")
    _serve(conn, rules, getattr(importlib.import_module(module), name))
