"""The parse worker process's side of `workers.ParsePool`: decode and extract a page.

Kept apart from the pool (asyncio, subprocesses) so that a worker loads the parser and little
else: not pydantic either, unless the crawl has site rules (`rules.py` is loaded with the
first rule; the record, `record.py`, is made in the crawl's process from `stored_fields`'
plain data). `parse_page` is the parse step itself (decode, then extract), also called
in-process by `xinwen.pipeline` where there is no crawl (`extract`, `explain`, `reparse`).
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
from .models import Decoded, Extracted

if TYPE_CHECKING:
    # pydantic models: a worker of a crawl without site rules never loads pydantic (see
    # `parse_page` and `stored_fields`).
    from .parse.trace import Trace
    from .record import Article
    from .rules import SiteRule

Parsed = tuple["SiteRule | None", Decoded, Extracted]  # the rule used, the text, the fields
# An article page as it will be stored under the page's own URL, as plain data (what
# `Article.model_validate` takes, see `stored_fields`), and the index text of its title and
# body (`prepare`).
Prepared = tuple[dict[str, Any], str, str]


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

    rule: SiteRule | None = None
    if rules and url:
        # rules.py is pydantic, loaded only here: a worker of a crawl without site rules has
        # no use for it (and unpickling the rules of one that has loads it anyway).
        from .rules import rule_for

        rule = rule_for(urls.host_of(url), rules)
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


def stored_fields(
    extracted: Extracted, decoded: Decoded, url: str | None, rule: SiteRule | None
) -> dict[str, Any]:
    """The stored record of an extracted article as plain data, normalized, its quality
    measured: what `Article.model_validate` takes. Made without pydantic (15 MB a worker)."""
    # Loaded on first use, like the parser: a crawl's own process normalizes only the
    # multi-page articles (its workers normalize the rest, see `prepare`), and OpenCC's
    # tables stay out of it (3.6 MB).
    from . import normalize

    fields = normalize.record_fields(
        extracted, decoded, url=urls.canonical_url(url) if url else "", site=site_of(url, rule)
    )
    body, title, published_at = fields["body"], fields["title"], fields["published_at"]
    fields.update(quality.measures(body, title, published_at, decoded))
    if extracted.truncated:
        fields["flags"].append("body_truncated")
    return fields


def finish(
    extracted: Extracted, decoded: Decoded, url: str | None, rule: SiteRule | None
) -> Article:
    """The stored record of an extracted article: normalized, its quality measured."""
    from .record import Article  # pydantic: the crawl's process has it, its workers need not

    return Article.model_validate(stored_fields(extracted, decoded, url, rule))


def prepare(
    extracted: Extracted, decoded: Decoded, url: str, rule: SiteRule | None
) -> Prepared | None:
    """For an article page, done by a parse worker while the crawl's process fetches and
    stores: the article's fields as stored under the page's own URL (`stored_fields`; the
    crawl's process makes them an `Article`) and its index text. None for a page that is not
    an article."""
    if not extracted.is_article:
        return None
    fields = stored_fields(extracted, decoded, url, rule)
    return fields, index_text(fields["title"]), index_text(fields["body"])


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
            prepared = block = None
            if ready:
                # Whether it is a block page ("" if not), judged on the body here, so that the
                # blocks of an article made ready need not go back to the crawl's process.
                block = quality.page_block(extracted) or ""
                try:
                    prepared = prepare(extracted, decoded, url, rule)
                except Exception:  # the crawl's process normalizes it, as before, errors and all
                    prepared = None
            if prepared is not None and extracted.next_page is None:
                # The crawl's process has no use for them (a multi-page article's parts join
                # its blocks there), and they were half of the answer: 88 -> 33 us to pickle
                # a corpus page's, 81 -> 48 us to unpickle it.
                extracted.blocks = []
            if hosts is not None:
                extracted.links = on_hosts(extracted.links, hosts)
            if not text:
                decoded = replace(decoded, text="")
            index = rules.index(rule) if rule is not None else None
            reply: tuple[Any, ...] = ("ok", index, decoded, extracted, prepared, block)
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
