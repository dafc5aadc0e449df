"""Parsing off the event loop: decode and extract pages in a small pool of worker processes.

A crawl fetches on one event loop; parsing a page takes milliseconds of CPU, so done inline it
stops every fetch for that long, uses one core of a machine that has more, and a hostile page
(a regex that backtracks for minutes, a tree that blows the C stack) stalls or kills the whole
crawl. `ParsePool` gives each page to a worker process, one page per worker at a time:

- the event loop keeps fetching while the workers parse, and every core does work;
- a worker that dies on a page (a crash, the OOM killer) fails that page alone, as `ParseCrash`,
  and one that takes longer than `timeout` is killed and fails it as `ParseTimeout`; both
  become the URL's failure row, a fresh worker takes the next page, and the crawl goes on;
- the site rules are sent to each worker once, when it starts, not with every page;
- waiting for a free worker is the crawl's back-pressure: at most `size` pages are being
  parsed and the fetch tasks waiting for a worker hold one page each, so memory stays flat.

`parse_page` is the parse step itself (decode, then extract), also called in-process by
`xinwen.pipeline` where there is no crawl (`extract`, `explain`, `reparse`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from multiprocessing.connection import Connection
from typing import Any

from . import encoding, errors, parse, urls
from .errors import ExtractError, ParseCrash, ParseTimeout
from .models import Decoded, Extracted
from .parse.trace import Trace
from .rules import SiteRule, rule_for

Parsed = tuple[SiteRule | None, Decoded, Extracted]  # the rule used, the text, the fields

# Seconds one page may take in a worker before the worker is killed. The slowest page of the
# shared corpus (242 real pages) parses in about 0.2 s on one core of the 2-core bench machine;
# 30 s leaves room for a loaded machine and still frees a stuck worker within a crawl.
PARSE_TIMEOUT = 30.0
# Workers per crawl: one per core but one, the crawl's own process (fetching, storing) needing
# a core of its own; at least 1, at most 4. On the 2-core bench machine the crawl's process is
# the slower side (bench/crawl.py: about 20 ms of CPU per page against 15 ms for parsing), so a
# second worker would add memory and no speed.
MAX_WORKERS = 4


def default_size() -> int:
    """Workers for this machine: one per usable core but one, between 1 and `MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores - 1))


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
    rule = rule_for(urls.host_of(url), rules) if url else None
    decoded = _decode(data, content_type)
    try:
        extracted = parse.extract(decoded.text, url, rule, trace, fetched_at, links=links)
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExtractError(f"cannot parse the page: {exc}", url=url) from exc
    return rule, decoded, extracted


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
        scheme, sep, rest = link.partition("://")
        end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        origin = scheme + sep + rest[:end]
        if _host_of_origin(origin) in hosts:
            kept.append(link)
    return kept


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
        data, url, content_type, fetched_at, links, hosts = job
        try:
            rule, decoded, extracted = target(
                data, url, rules, content_type, fetched_at=fetched_at, links=links
            )
            if hosts is not None:
                extracted.links = on_hosts(extracted.links, hosts)
            index = rules.index(rule) if rule is not None else None
            reply: tuple[Any, ...] = ("ok", index, decoded, extracted)
        except ExtractError as exc:
            reply = ("error", type(exc).__name__, exc.args[0] if exc.args else "", exc.url)
        except Exception as exc:  # a parser bug: this page fails, the crawl goes on
            reply = ("error", "ExtractError", f"parser error: {type(exc).__name__}: {exc}", url)
        conn.send(reply)


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection

    def alive(self) -> bool:
        return self.process.poll() is None


def serve_fd(fd: int) -> None:
    """A worker process's entry point: serve the pool on the socket `fd` (see `_start`)."""
    conn = Connection(fd)
    target, rules = conn.recv()
    module, name = target.split(":")
    _serve(conn, rules, getattr(importlib.import_module(module), name))


class ParsePool:
    """Worker processes that run `parse_page`, one page each at a time; see the module doc.

    >>> async with ParsePool(rules) as pool:  # doctest: +SKIP
    ...     rule, decoded, extracted = await pool.parse(page.content, page.final_url, ...)
    """

    def __init__(
        self,
        rules: Sequence[SiteRule] = (),
        *,
        size: int | None = None,
        timeout: float = PARSE_TIMEOUT,
        target: str = "xinwen.workers:parse_page",
    ) -> None:
        self.rules = list(rules)
        # What the workers call, as "module:function" (tests give one that misbehaves).
        self.target = target
        self.size = size or default_size()
        self.timeout = timeout
        self._idle: asyncio.Queue[_Worker | None] = asyncio.Queue()
        self._all: list[_Worker] = []
        self._closed = False

    async def __aenter__(self) -> ParsePool:
        for _ in range(self.size):
            self._idle.put_nowait(None)  # a free slot; its worker is started on first use
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def _start(self) -> _Worker:
        # A fresh interpreter that imports the parser alone (not the database, HTTP or CLI
        # stack, nor whatever script started the crawl), so a worker costs tens of MB, not a
        # copy of the crawl; and no fork of a process with threads and an open database.
        ours, theirs = socket.socketpair()
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from xinwen.workers import serve_fd; serve_fd({theirs.fileno()})",
            ],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        conn = Connection(ours.detach())
        conn.send((self.target, self.rules))
        worker = _Worker(process, conn)
        self._all.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.wait(5)
        worker.conn.close()
        self._all.remove(worker)

    async def parse(
        self,
        data: bytes,
        url: str,
        content_type: str | None,
        *,
        fetched_at: datetime | None = None,
        links: bool = False,
        hosts: frozenset[str] | None = None,
    ) -> Parsed:
        """`parse_page` in a worker; with `hosts`, only the links on those hosts are returned.

        Raises `ExtractError` as `parse_page` does, `ParseCrash` if the worker died on the page
        and `ParseTimeout` if it took longer than the pool's timeout (the worker is killed).
        """
        worker = await self._idle.get()
        try:
            if worker is None or not worker.alive():
                if worker is not None:
                    self._discard(worker)
                worker = self._start()
            reply = await self._ask(worker, (data, url, content_type, fetched_at, links, hosts))
        except ParseCrash:
            code = None
            if worker is not None:
                # Its end of the socket closes a moment before the process can be reaped.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = worker.process.wait(5)
                self._discard(worker)
            worker = None
            how = (
                "still running"
                if code is None
                else (f"exit code {code}" if code >= 0 else f"signal {-code}")
            )
            raise ParseCrash(f"the parse worker died on the page ({how})", url=url) from None
        except TimeoutError:
            assert worker is not None
            self._discard(worker)
            worker = None
            raise ParseTimeout(
                f"parsing took longer than {self.timeout:g} s; the worker was stopped", url=url
            ) from None
        finally:
            self._idle.put_nowait(worker)
        if reply[0] == "error":
            _, name, message, error_url = reply
            cls = getattr(errors, name, ExtractError)
            exc = cls.__new__(cls)
            Exception.__init__(exc, message)
            exc.url = error_url
            raise exc
        _, index, decoded, extracted = reply
        return (self.rules[index] if index is not None else None), decoded, extracted

    async def _ask(self, worker: _Worker, job: tuple[Any, ...]) -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[Any, ...]] = loop.create_future()
        fd = worker.conn.fileno()

        def readable() -> None:
            loop.remove_reader(fd)
            if answer.done():
                return
            try:
                answer.set_result(worker.conn.recv())
            except (EOFError, OSError):
                answer.set_exception(ParseCrash("the parse worker died", url=None))

        try:
            worker.conn.send(job)
        except OSError:
            raise ParseCrash("the parse worker died", url=None) from None
        loop.add_reader(fd, readable)
        try:
            return await asyncio.wait_for(answer, self.timeout)
        finally:
            loop.remove_reader(fd)

    def close(self) -> None:
        """Stop the workers (a crawl's last step; pages still being parsed are abandoned)."""
        if self._closed:
            return
        self._closed = True
        for worker in self._all:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self._all:
            try:
                worker.process.wait(2)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(2)
            worker.conn.close()
        self._all.clear()
