"""Crawl throughput: xinwen's whole pipeline against Scrapy (+ trafilatura + SQLite), in one run.

Run from the repository root (Scrapy, trafilatura and psutil come from the ``bench`` extra)::

    .venv/bin/python bench/crawl.py                               # 2,000 articles, every tool
    .venv/bin/python bench/crawl.py --repeat 3                    # median and spread of 3 runs
    .venv/bin/python bench/crawl.py --articles 2000,20000 --tools xinwen   # memory growth

A static site is built from the shared corpus in a temporary directory: an index linking to list
pages of 50 links each, linking to the articles (the 242 corpus pages reused in turn under
distinct URLs). Each article keeps its bytes in its original encoding and is served with the
charset that decodes it (the truth ``encoding``) in its Content-Type; only its relative links
are made absolute against the page's original URL, so that every tool crawls the same pages
(index, lists, articles) and not thousands of 404s for the original site's navigation.

nginx serves the site on 127.0.0.1 (installed with apt-get when missing and allowed; otherwise
a small asyncio server in its own process stands in: see ``--server``). The tools run one after
another, in turn within each repeat, with the same concurrency and no delay:

- ``xinwen``: the real CLI, ``xinwen crawl`` into a fresh SQLite archive, with its defaults
  (raw captures stored, full-text index kept), its politeness opened up for 127.0.0.1
  (``--per-host`` = ``--concurrency``, ``--delay 0``).
- ``scrapy+trafilatura``: bench/scrapy_spider.py ``--mode full``: Scrapy fetches, trafilatura
  extracts with metadata, an item pipeline inserts into SQLite.
- ``scrapy-fetch``: the same spider with no extraction or storage: the fetching ceiling.

Pages/s is the pages fetched over the tool's own crawl time (start-up and imports excluded; the
wall time of the whole process is shown too). Peak memory is sampled every 50 ms over the tool's
whole process tree: RSS summed over its processes (counts memory shared by forked workers more
than once, so it overstates), and PSS summed (shared pages split between the processes sharing
them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from extract import corpus_present, default_corpus, load_truths  # noqa: E402

TOOLS = ("xinwen", "scrapy+trafilatura", "scrapy-fetch")
PER_LIST = 50  # links per list page, as on a news site's channel page
SAMPLE_EVERY = 0.05  # seconds between memory samples
# The corpus encodings as HTTP charset labels (the BOM says utf-8 already).
_CHARSET = {"utf-8-sig": "utf-8"}

# --- the site ------------------------------------------------------------------------------------

_HREF = re.compile(rb"""(\bhref\s*=\s*)(["']?)([^"'\s>]*)""", re.I)
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)


def absolute_links(data: bytes, base: str) -> bytes:
    """Make relative ``href`` values absolute against ``base``; every other byte is kept.

    Link values are ASCII in all the corpus encodings (a GBK trail byte is never a quote), and
    latin-1 round-trips any byte that is not, so the page's encoding is untouched.
    """

    def fix(match: re.Match[bytes]) -> bytes:
        value = match.group(3).decode("latin-1")
        if not value or _ABSOLUTE.match(value):
            return match.group(0)
        joined = urljoin(base, value).encode("latin-1", "replace")
        return match.group(1) + match.group(2) + joined

    return _HREF.sub(fix, data)


@dataclass
class Site:
    root: Path
    articles: int
    lists: int
    charsets: list[str]

    @property
    def pages(self) -> int:
        return 1 + self.lists + self.articles


def build_site(corpus: Path, root: Path, articles: int) -> Site:
    """Write index, list pages and articles under ``root``; returns what was built."""
    truths = load_truths(corpus)
    sources = []
    for pid, truth in truths.items():
        data = (corpus / "pages" / f"{pid}.html").read_bytes()
        base = truth.get("url") or f"http://{pid}.example.invalid/"
        charset = _CHARSET.get(truth["encoding"], truth["encoding"])
        title = truth.get("title_annotated") or truth.get("title") or pid
        sources.append((absolute_links(data, base), charset, title))
    lists = -(-articles // PER_LIST)
    charsets = sorted({s[1] for s in sources})
    for charset in charsets:
        (root / "news" / charset).mkdir(parents=True, exist_ok=True)
    (root / "list").mkdir(parents=True, exist_ok=True)
    items: list[tuple[str, str]] = []
    for n in range(articles):
        data, charset, title = sources[n % len(sources)]
        path = f"/news/{charset}/{n:06d}.html"
        (root / path.lstrip("/")).write_bytes(data)
        items.append((path, title))
    for k in range(lists):
        chunk = items[k * PER_LIST : (k + 1) * PER_LIST]
        links = "\n".join(f'<li><a href="{p}">{_esc(t)}</a></li>' for p, t in chunk)
        _page(root / "list" / f"{k:04d}.html", f"新闻列表 第{k + 1}页", links)
    links = "\n".join(
        f'<li><a href="/list/{k:04d}.html">第{k + 1}页</a></li>' for k in range(lists)
    )
    _page(root / "index.html", "新闻首页", links)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="ascii")
    # nginx's workers run as an unprivileged user: the temporary tree must be readable.
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Site(root, articles, lists, charsets)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _page(path: Path, title: str, links: str) -> None:
    html = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        f'</head><body><nav><a href="/">首页</a></nav><h1>{title}</h1><ul>\n{links}\n</ul>'
        "</body></html>"
    )
    path.write_text(html, encoding="utf-8")


# --- the servers ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_nginx(install: bool) -> str | None:
    """The nginx binary; installed from the system's packages when missing and ``install``."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found or not install or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    print("installing nginx-light with apt-get ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "install", "-y", "-qq", "nginx-light"], ["apt-get", "update"]):
        subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
        if command[1] == "update":
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "nginx-light"],
                env=env, capture_output=True, check=False, timeout=600,
            )  # fmt: skip
        if Path("/usr/sbin/nginx").exists():
            return "/usr/sbin/nginx"
    return None


def _nginx_conf(site: Site, work: Path, port: int) -> str:
    charsets = "\n".join(f"        location /news/{c}/ {{ charset {c}; }}" for c in site.charsets)
    user = "user root root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {site.root};
        index index.html;
        charset utf-8;
{charsets}
    }}
}}
"""


@dataclass
class Server:
    kind: str
    url: str
    process: subprocess.Popen[bytes]

    def cpu(self) -> float:
        """CPU seconds used so far by the server and its workers."""
        import psutil

        try:
            procs = [psutil.Process(self.process.pid)]
            procs += procs[0].children(recursive=True)
            return sum(p.cpu_times().user + p.cpu_times().system for p in procs)
        except psutil.Error:
            return 0.0


@contextmanager
def serve(site: Site, work: Path, kind: str) -> Iterator[Server]:
    """Serve ``site`` on 127.0.0.1 with nginx (``kind`` auto or nginx) or the Python server."""
    port = _free_port()
    nginx = find_nginx(install=kind == "auto") if kind in ("auto", "nginx") else None
    if kind == "nginx" and nginx is None:
        raise SystemExit("nginx not found and could not be installed")
    if nginx:
        conf = work / "nginx.conf"
        conf.write_text(_nginx_conf(site, work, port), encoding="utf-8")
        command = [nginx, "-c", str(conf), "-p", str(work), "-e", str(work / "nginx-error.log")]
        used = "nginx " + _nginx_version(nginx)
    else:
        command = [sys.executable, __file__, "--serve", str(site.root), str(port)]
        used = "python asyncio server"
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        _wait_port(port, process)
        yield Server(used, f"http://127.0.0.1:{port}/", process)
    finally:
        process.terminate()
        process.wait(10)


def _nginx_version(binary: str) -> str:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False).stderr
    return out.strip().rsplit("/", 1)[-1]


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def python_server(root: Path, port: int) -> None:
    """A keep-alive HTTP/1.1 static server on asyncio, every file held in memory."""
    charsets = {}
    files: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if path.is_file():
            url = "/" + path.relative_to(root).as_posix()
            files[url] = path.read_bytes()
            parts = url.split("/")
            charsets[url] = parts[2] if url.startswith("/news/") else "utf-8"
    files["/"] = files["/index.html"]
    charsets["/"] = "utf-8"

    def response(target: str) -> bytes:
        body = files.get(target.split("?", 1)[0])
        if body is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        ctype = "text/plain" if target.endswith(".txt") else "text/html"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}; charset={charsets.get(target)}\r\n"
        return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(response(head.split(b" ", 2)[1].decode("latin-1")))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def run() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


# --- measuring one tool --------------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    pages: int = 0
    elapsed: float = 0.0  # the tool's own crawl time
    wall: float = 0.0  # the whole process, start-up included
    cpu: float = 0.0  # user + system seconds of the tool's process tree
    main_cpu: float = 0.0  # of its first process alone
    server_cpu: float = 0.0
    peak_rss: float = 0.0  # MB, summed over the process tree
    peak_pss: float = 0.0  # MB
    processes: int = 0  # the most processes seen in the tree at once
    rows: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.pages / self.elapsed if self.elapsed else 0.0


def _pss(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process in MB, from smaps_rollup."""
    rss = pss = 0.0
    try:
        with Path(f"/proc/{pid}/smaps_rollup").open(encoding="ascii") as file:
            for line in file:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


def monitored(
    command: list[str], result: Result, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, sampling the memory of its process tree into ``result``."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    done = threading.Event()

    cpu: dict[int, float] = {}  # pid -> user + system seconds, as last seen

    def sample() -> None:
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            tree = [p.pid for p in procs]
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    cpu[proc.pid] = times.user + times.system
            figures = [_pss(pid) for pid in tree]
            result.peak_rss = max(result.peak_rss, sum(f[0] for f in figures))
            result.peak_pss = max(result.peak_pss, sum(f[1] for f in figures))
            result.processes = max(result.processes, len(tree))
            done.wait(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        result.note = f"killed after {timeout:.0f} s"
    done.set()
    sampler.join()
    result.wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # Sampled per process (the last 50 ms of each are missed), or what the kernel reports for
    # the reaped children, whichever is more.
    result.cpu = max(reaped, sum(cpu.values()))
    result.main_cpu = cpu.get(process.pid, 0.0)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def run_xinwen(site: Site, server: Server, work: Path, concurrency: int, timeout: float) -> Result:
    result = Result("xinwen")
    db = work / "xinwen.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    xinwen = shutil.which("xinwen", path=str(Path(sys.executable).parent)) or "xinwen"
    command = [
        xinwen, "crawl", server.url, "--db", str(db), "--json", "--quiet",
        "--concurrency", str(concurrency), "--per-host", str(concurrency), "--delay", "0",
        "--max-pages", str(site.pages + 100), "--max-per-host", str(site.pages + 100),
    ]  # fmt: skip
    done = monitored(command, result, timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        result.note = result.note or f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
        return result
    summary = json.loads(lines[-1])
    result.pages = summary["fetched"]
    result.elapsed = summary["elapsed"]
    if summary.get("failures"):
        result.note = "failures: " + json.dumps(summary["failures"])
    with sqlite3.connect(db) as con:
        for table in ("article", "capture", "payload", "fetch", "section", "article_fts"):
            result.rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return result


def run_scrapy(
    mode: str, site: Site, server: Server, work: Path, concurrency: int, timeout: float
) -> Result:
    result = Result("scrapy+trafilatura" if mode == "full" else "scrapy-fetch")
    db, stats = work / f"scrapy-{mode}.db", work / f"scrapy-{mode}.json"
    db.unlink(missing_ok=True)
    stats.unlink(missing_ok=True)
    command = [
        sys.executable, str(REPO / "bench" / "scrapy_spider.py"), "--mode", mode,
        "--start", server.url, "--db", str(db), "--concurrency", str(concurrency),
        "--stats", str(stats),
    ]  # fmt: skip
    done = monitored(command, result, timeout)
    if not stats.exists():
        result.note = result.note or f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
        return result
    summary = json.loads(stats.read_text(encoding="utf-8"))
    result.pages = summary["pages"]
    result.elapsed = summary["elapsed"]
    if summary["errors"]:
        result.note = json.dumps(summary["errors"])
    if mode == "full":
        with sqlite3.connect(db) as con:
            result.rows["article"] = con.execute("SELECT count(*) FROM article").fetchone()[0]
    return result


def run_tool(
    tool: str, site: Site, server: Server, work: Path, concurrency: int, timeout: float
) -> Result:
    print(f"  {tool} ...", file=sys.stderr, flush=True)
    cpu_before = server.cpu()
    if tool == "xinwen":
        result = run_xinwen(site, server, work, concurrency, timeout)
    else:
        mode = "full" if tool == "scrapy+trafilatura" else "fetch"
        result = run_scrapy(mode, site, server, work, concurrency, timeout)
    result.server_cpu = server.cpu() - cpu_before
    print(
        f"    {result.pages} pages in {result.elapsed:.1f} s = {result.rate:.1f} pages/s, "
        f"peak RSS {result.peak_rss:.0f} MB (PSS {result.peak_pss:.0f}) {result.note}",
        file=sys.stderr, flush=True,
    )  # fmt: skip
    return result


# --- the report ----------------------------------------------------------------------------------


def _spread(values: list[float], fmt: str = "{:.0f}") -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    middle = statistics.median(values)
    return f"{fmt.format(middle)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def render(size: int, site: Site, runs: dict[str, list[Result]]) -> str:
    lines = [
        f"### {size:,} articles ({site.pages:,} pages), median (min–max) of "
        f"{max(len(v) for v in runs.values())} run(s)",
        "",
        "| tool | pages | pages/s | wall s | CPU s (tool: all / main process) | CPU s (server) "
        "| peak RSS MB (tree sum) | peak PSS MB | processes | rows |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tool, results in runs.items():
        rows = ", ".join(f"{k} {v:,}" for k, v in results[-1].rows.items()) or "-"
        lines.append(
            f"| {tool} | {results[-1].pages:,} | {_spread([r.rate for r in results], '{:.1f}')} | "
            f"{_spread([r.wall for r in results], '{:.1f}')} | "
            f"{_spread([r.cpu for r in results], '{:.1f}')} / "
            f"{_spread([r.main_cpu for r in results], '{:.1f}')} | "
            f"{_spread([r.server_cpu for r in results], '{:.1f}')} | "
            f"{_spread([r.peak_rss for r in results])} | "
            f"{_spread([r.peak_pss for r in results])} | "
            f"{max(r.processes for r in results)} | {rows} |"
        )
    notes = [f"{t}: {r.note}" for t, rs in runs.items() for r in rs if r.note]
    if notes:
        lines += ["", *sorted(set(notes))]
    if "xinwen" in runs:
        mine = runs["xinwen"]
        for peer in ("scrapy+trafilatura", "scrapy-fetch"):
            if peer not in runs:
                continue
            # Ratios within each repeat: both tools met the same load on the machine.
            ratios = [m.rate / p.rate for m, p in zip(mine, runs[peer], strict=False) if p.rate]
            if ratios:
                lines.append(f"\nxinwen / {peer} pages/s: {_spread(ratios, '{:.2f}')}x")
    return "\n".join(lines)


def _versions() -> str:
    names = ("xinwen", "scrapy", "trafilatura", "twisted", "httpx")
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=None, help="default: $XINWEN_CORPUS or ../shared/corpus"
    )
    parser.add_argument(
        "--articles", default="2000", help="article pages, or a comma-separated list of sizes"
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool, taken in turn")
    parser.add_argument(
        "--server", choices=["auto", "nginx", "python"], default="auto",
        help="auto: nginx, installed with apt-get if missing, else the Python server",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per tool run")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write JSON")
    parser.add_argument("--keep", type=Path, default=None, help="build the site here and keep it")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        python_server(Path(args.serve[0]), int(args.serve[1]))
        return 0
    corpus: Path = (args.corpus or default_corpus()).resolve()
    if not corpus_present(corpus):
        print(f"Corpus not found at {corpus} (set --corpus or XINWEN_CORPUS); skipping benchmark.")
        return 0
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s) {unknown}; choose from {list(TOOLS)}")
    sizes = [int(s) for s in args.articles.split(",")]

    report: dict[str, Any] = {"sizes": {}}
    tables = []
    server_kind = ""
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="xinwen-crawl-") as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            print(f"building {size} articles in {work} ...", file=sys.stderr, flush=True)
            site = build_site(corpus, work / "site", size)
            runs: dict[str, list[Result]] = {t: [] for t in tools}
            with serve(site, work, args.server) as server:
                server_kind = server.kind
                for round_ in range(args.repeat):
                    print(f" round {round_ + 1}/{args.repeat}", file=sys.stderr, flush=True)
                    for tool in tools:
                        result = run_tool(tool, site, server, work, args.concurrency, args.timeout)
                        runs[tool].append(result)
            tables.append(render(size, site, runs))
            report["sizes"][size] = {t: [vars(r) for r in rs] for t, rs in runs.items()}
    if len(sizes) > 1:
        growth = ["", "Peak memory, largest size over smallest:"]
        first, last = report["sizes"][sizes[0]], report["sizes"][sizes[-1]]
        for tool in tools:
            for key in ("peak_rss", "peak_pss"):
                a = statistics.median(r[key] for r in first[tool])
                b = statistics.median(r[key] for r in last[tool])
                growth.append(f"- {tool} {key}: {a:.0f} -> {b:.0f} MB ({b / a - 1:+.0%})")
        tables.append("\n".join(growth))
    print("\n\n".join(tables))
    print(
        f"\nServer: {server_kind} on 127.0.0.1, concurrency {args.concurrency}, no delay. "
        f"Machine: Python {platform.python_version()}, nproc {os.cpu_count()}, "
        f"{platform.platform()}. Versions: {_versions()}."
    )
    if args.json:
        report["server"] = server_kind
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
