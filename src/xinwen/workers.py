"""Parsing off the event loop: decode and extract pages in a small pool of worker processes.

A crawl fetches on one event loop; parsing a page takes milliseconds of CPU, so done inline it
stops every fetch for that long, uses one core of a machine that has more, and a hostile page
(a regex that backtracks for minutes, a tree that blows the C stack) stalls or kills the whole
crawl. `ParsePool` gives each page to a worker process, which parses one page at a time and
is sent the next while it works (`ParsePool.DEPTH` pages in its hands):

- the event loop keeps fetching while the workers parse, and every core does work; pages go
  to and fro over a non-blocking socket, so the loop never waits on a worker, and its buffer
  holds the pages in the worker's hands, so the worker seldom waits on the loop;
- a worker that dies on a page (a crash, the OOM killer) fails that page alone, as `ParseCrash`,
  and one that takes longer than `timeout` is killed and fails it as `ParseTimeout`; both
  become the URL's failure row, a fresh worker takes the pages queued behind it, and the
  crawl goes on;
- the site rules are sent to each worker once, when it starts, not with every page;
- waiting for room in a worker's hands is the crawl's back-pressure: at most `size * DEPTH`
  pages are in the workers' hands and the fetch tasks waiting hold one page each, so memory
  stays flat.

The worker's side, `parse_page` (decode, then extract; also called in-process by
`xinwen.pipeline` where there is no crawl: `extract`, `explain`, `reparse`) and its loop, is in
`workerproc.py`: a worker process imports that module and not this one (asyncio and all),
nor pydantic unless the crawl has site rules (an article comes back as plain data, validated
into an `Article` by the crawl's process; pydantic took 15 MB of each worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.reduction import ForkingPickler
from typing import Any

from . import errors
from .errors import ExtractError, ParseCrash, ParseTimeout
from .models import Decoded, Extracted
from .rules import SiteRule
from .workerproc import Parsed, Prepared, on_hosts, parse_page, serve_fd

__all__ = [
    "PARSE_TIMEOUT",
    "ParsePool",
    "Parsed",
    "Prepared",
    "default_size",
    "on_hosts",
    "parse_page",
    "serve_fd",
]

# Seconds one page may take in a worker before the worker is killed. The slowest page of the
# shared corpus (242 real pages) parses in about 0.2 s on one core of the 2-core bench machine;
# 30 s leaves room for a loaded machine and still frees a stuck worker within a crawl.
PARSE_TIMEOUT = 30.0
# Workers per crawl: one per core but one, the crawl's own process (fetching, storing) needing
# a core of its own; at least 1, at most 4. On the 2-core bench machine the two sides cost
# about the same (bench/crawl.py: 5.4 ms of CPU per page in the crawl's process, 5.6 ms in its
# worker), so a second worker would only contend for the same two cores, and add 55 MB.
MAX_WORKERS = 4


def default_size() -> int:
    """Workers for this machine: one per usable core but one, between 1 and `MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores - 1))


@dataclass
class _Job:
    message: tuple[Any, ...]  # what the worker is sent
    url: str
    answer: asyncio.Future[tuple[Any, ...]]


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    sock: socket.socket  # non-blocking: the event loop never waits on a worker
    jobs: deque[_Job] = field(default_factory=deque)  # sent, in order; the first is underway
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)  # one message at a time
    reader: asyncio.Task[None] | None = None
    timer: asyncio.TimerHandle | None = None  # the deadline of the first job
    timed_out: bool = False

    def alive(self) -> bool:
        return self.process.poll() is None


# Messages are framed as `multiprocessing.connection.Connection` frames them (the worker reads
# and writes with one): a signed 4-byte length, or -1 and an 8-byte length past 2 GiB.
def _frame(message: Any) -> bytes:
    body = ForkingPickler.dumps(message)
    if len(body) > 0x7FFFFFFF:
        return struct.pack("!iQ", -1, len(body)) + body
    return struct.pack("!i", len(body)) + body


async def _read(sock: socket.socket, size: int) -> bytearray:
    loop = asyncio.get_running_loop()
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = await loop.sock_recv_into(sock, view[got:])
        if n == 0:
            raise EOFError
        got += n
    return buffer


async def _receive(sock: socket.socket) -> Any:
    (size,) = struct.unpack("!i", await _read(sock, 4))
    if size == -1:
        (size,) = struct.unpack("!Q", await _read(sock, 8))
    return ForkingPickler.loads(await _read(sock, size))


# Bytes of pages on their way to a worker that the socket holds (see `ParsePool._start`).
SEND_BUFFER = 2 << 20


class ParsePool:
    """Worker processes that run `parse_page`, each on one page at a time; see the module doc.

    Each worker is sent its next page while it parses the one before (`DEPTH` pages in hand),
    so it never waits for the crawl's process to get round to sending one; the answers come
    back in order. A page that kills or hangs its worker fails alone: the pages queued behind
    it go to a fresh worker.

    >>> async with ParsePool(rules) as pool:  # doctest: +SKIP
    ...     rule, decoded, extracted = await pool.parse(page.content, page.final_url, ...)
    """

    # Pages in hand per worker: the one it parses and those queued behind it. Measured on
    # bench/crawl.py's site (2 cores, one worker): with one page in hand the worker sat idle
    # 38% of the crawl while pages waited for it, until the crawl's process, busy storing or
    # fetching, sent the next one; two took it to ~30%. Four were 3% faster than two once
    # commits left the event loop (12.0 to 11.6 s, three runs each); eight no better.
    DEPTH = 4

    def __init__(
        self,
        rules: Sequence[SiteRule] = (),
        *,
        size: int | None = None,
        timeout: float = PARSE_TIMEOUT,
        target: str = "xinwen.workerproc:parse_page",
    ) -> None:
        self.rules = list(rules)
        # What the workers call, as "module:function" (tests give one that misbehaves).
        self.target = target
        self.size = size or default_size()
        self.timeout = timeout
        # The pool's back-pressure: at most this many pages are in the workers' hands.
        self._slots = asyncio.Semaphore(self.size * self.DEPTH)
        self._all: list[_Worker] = []
        self._closed = False

    async def __aenter__(self) -> ParsePool:
        # The first worker starts now: its imports (~0.2 s) overlap the crawl's first fetches
        # (robots.txt, the start page), which otherwise waited for them before the first parse.
        self._start()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def _start(self) -> _Worker:
        # A fresh interpreter that imports the parser alone (not the database, HTTP or CLI
        # stack, pydantic, nor whatever script started the crawl), so a worker costs tens of
        # MB, not a copy of the crawl; and no fork of a process with threads and an open
        # database.
        ours, theirs = socket.socketpair()
        # Room for the pages in the worker's hands (corpus pages average 135 kB), so that it
        # reads the ones queued behind its page from the socket without waiting for the
        # crawl's event loop to push the rest of them in (it can be busy for 15-40 ms after a
        # commit). The default 208 kB held about one and a half; with 2 MB, on bench/crawl.py's
        # site, the worker sat idle 1.0 s of the crawl instead of 1.6, 5% faster. The kernel
        # caps it at net.core.wmem_max.
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from xinwen.workerproc import serve_fd; serve_fd({theirs.fileno()})",
            ],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        ours.sendall(_frame((self.target, self.rules)))
        ours.setblocking(False)
        worker = _Worker(process, ours)
        worker.reader = asyncio.get_running_loop().create_task(self._read_answers(worker))
        self._all.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        if worker.timer is not None:
            worker.timer.cancel()
        worker.process.kill()
        worker.process.wait(5)
        worker.sock.close()
        if worker in self._all:
            self._all.remove(worker)

    def _worker_for_next(self) -> _Worker:
        """The live worker with the fewest pages in hand, or a new one while there is room."""
        live = [w for w in self._all if w.alive() and not w.timed_out]
        for dead in [w for w in self._all if w not in live and not w.jobs]:
            self._discard(dead)
        if len(live) < self.size and all(w.jobs for w in live):
            return self._start()
        return min(live, key=lambda w: len(w.jobs))

    async def parse(
        self,
        data: bytes,
        url: str,
        content_type: str | None,
        *,
        fetched_at: datetime | None = None,
        links: bool = False,
        hosts: frozenset[str] | None = None,
        text: bool = True,
    ) -> Parsed:
        """`parse_page` in a worker; with `hosts`, only the links on those hosts are returned.

        `text=False` leaves the decoded text out of the answer (`Decoded.text` is empty): it is
        the largest part of it, and a crawl needs it only for a page whose end HTTP cannot
        vouch for (`quality.cut_short`).

        Raises `ExtractError` as `parse_page` does, `ParseCrash` if the worker died on the page
        and `ParseTimeout` if it took longer than the pool's timeout (the worker is killed).
        """
        rule, decoded, extracted, _, _ = await self.parse_prepared(
            data, url, content_type, fetched_at=fetched_at, links=links, hosts=hosts, text=text,
            prepare=False,
        )  # fmt: skip
        return rule, decoded, extracted

    async def parse_prepared(
        self,
        data: bytes,
        url: str,
        content_type: str | None,
        *,
        fetched_at: datetime | None = None,
        links: bool = False,
        hosts: frozenset[str] | None = None,
        text: bool = True,
        prepare: bool = True,
    ) -> tuple[SiteRule | None, Decoded, Extracted, Prepared | None, str | None]:
        """`parse`, and with `prepare` two things more made in the worker.

        For an article page, what `workerproc.prepare` makes of it: the article's fields as
        stored under `url` (plain data) and its index text (None for another page, or if
        preparing it failed: the crawl's process then does it itself). A prepared article
        without further parts comes back without its blocks (`Extracted.blocks` is empty).

        For any page, whether it is a block page: `quality.page_block`'s sign, "" for none
        (None without `prepare`).
        """
        message = (data, url, content_type, fetched_at, links, hosts, text, prepare)
        async with self._slots:
            job = _Job(message, url, asyncio.get_running_loop().create_future())
            await self._send(self._worker_for_next(), job)
            reply = await job.answer
        if reply[0] == "error":
            _, name, message_text, error_url = reply
            cls = getattr(errors, name, ExtractError)
            exc = cls.__new__(cls)
            Exception.__init__(exc, message_text)
            exc.url = error_url
            raise exc
        _, index, decoded, extracted, prepared, block = reply
        rule = self.rules[index] if index is not None else None
        return rule, decoded, extracted, prepared, block

    async def _send(self, worker: _Worker, job: _Job) -> None:
        # Sent by the event loop as the socket allows: a page of hundreds of kB does not fit
        # the socket's buffer, and a blocking send waited for the worker to be scheduled and
        # read it (a sixth of the crawl's time on a busy 2-core machine).
        worker.jobs.append(job)
        if len(worker.jobs) == 1:
            self._arm(worker)
        frame = _frame(job.message)
        try:
            async with worker.sending:
                await asyncio.get_running_loop().sock_sendall(worker.sock, frame)
        except OSError:
            pass  # the worker is gone: its reader finds out and settles the jobs
        except BaseException:
            # Cancelled in the middle of a message: the worker would misread what follows.
            worker.process.kill()
            raise

    def _arm(self, worker: _Worker) -> None:
        """Start the clock of the worker's first job: it is parsing that page now."""
        if worker.timer is not None:
            worker.timer.cancel()
        worker.timer = asyncio.get_running_loop().call_later(self.timeout, self._time_out, worker)

    def _time_out(self, worker: _Worker) -> None:
        worker.timed_out = True
        worker.process.kill()  # its reader sees the end of the socket and settles the jobs

    async def _read_answers(self, worker: _Worker) -> None:
        """Hand each answer of `worker` to its page, in order; when the worker ends, fail the
        page it was on and send the pages queued behind it to another worker."""
        try:
            while True:
                reply = await _receive(worker.sock)
                job = worker.jobs.popleft()
                if not job.answer.done():
                    job.answer.set_result(reply)
                if worker.jobs:
                    self._arm(worker)
                elif worker.timer is not None:
                    worker.timer.cancel()
                    worker.timer = None
        except (EOFError, OSError):
            pass
        if worker.timer is not None:
            worker.timer.cancel()
        jobs, worker.jobs = list(worker.jobs), deque()
        if self._closed:
            return
        code = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            # Its end of the socket closes a moment before the process can be reaped.
            code = worker.process.wait(5)
        timed_out = worker.timed_out
        self._discard(worker)
        if not jobs:
            return  # it died between pages
        first, rest = jobs[0], jobs[1:]
        if timed_out:
            error: ExtractError = ParseTimeout(
                f"parsing took longer than {self.timeout:g} s; the worker was stopped",
                url=first.url,
            )
        else:
            how = (
                "still running"
                if code is None
                else (f"exit code {code}" if code >= 0 else f"signal {-code}")
            )
            error = ParseCrash(f"the parse worker died on the page ({how})", url=first.url)
        if not first.answer.done():
            first.answer.set_exception(error)
        for job in rest:  # they did nothing wrong: a fresh worker parses them
            if not job.answer.done():
                await self._send(self._worker_for_next(), job)

    def close(self) -> None:
        """Stop the workers (a crawl's last step; pages still being parsed are abandoned)."""
        if self._closed:
            return
        self._closed = True
        for worker in self._all:
            if worker.reader is not None:
                worker.reader.cancel()
            if worker.timer is not None:
                worker.timer.cancel()
            # The end of the socket is the worker's signal to stop (it reads EOF).
            with contextlib.suppress(OSError):
                worker.sock.shutdown(socket.SHUT_RDWR)
        for worker in self._all:
            try:
                worker.process.wait(2)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(2)
            worker.sock.close()
            for job in worker.jobs:
                job.answer.cancel()
        self._all.clear()
