"""A generated news site on several 127.0.0.1 ports (each port a host), for the worker tests and
bench/workers.py: an index per host linking its articles, and article pages that extract as
articles. The server counts requests per path and measures, per host, how many requests were
in flight at once and when each one started, so tests can check politeness from the server side.

    with serve(hosts=4, pages=500) as site:
        site.starts        # the index URL of each host
        site.hits          # Counter: path -> requests
        site.max_inflight  # host -> most requests in flight at once
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PARAGRAPH = (
    "记者从有关部门获悉，第{n}号报告显示，今年前三季度全省规模以上工业增加值同比增长百分之五点二，"
    "其中高技术制造业增长较快，新能源汽车、集成电路等产品产量保持两位数增长。业内人士表示，"
    "随着一系列稳增长政策持续发力，市场预期逐步改善，企业生产经营总体平稳。"
)


def article_html(host: int, number: int) -> bytes:
    """An article page: a headline, a dated byline and five paragraphs, distinct per page."""
    body = "".join(f"<p>{_PARAGRAPH.format(n=f'{host}-{number}-{p}')}</p>" for p in range(5))
    day = 1 + number % 28
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>第{host}站第{number}号经济新闻_测试网</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a></div>"
        f"<h1>第{host}站第{number}号经济新闻</h1>"
        f"<div class='info'>2024-11-{day:02d} 10:{number % 60:02d} 来源：测试网</div>"
        f"<div class='article'>{body}</div></body></html>"
    ).encode()


def index_html(pages: int) -> bytes:
    links = "".join(f"<li><a href='/a/{n}.html'>新闻{n}</a></li>" for n in range(pages))
    return f"<!doctype html><html><head><meta charset='utf-8'><title>测试网</title></head><body><ul>{links}</ul></body></html>".encode()  # noqa: E501


@dataclass
class Site:
    starts: list[str]
    pages: int
    hits: Counter[str] = field(default_factory=Counter)  # "host:path" -> requests
    inflight: Counter[int] = field(default_factory=Counter)
    max_inflight: Counter[int] = field(default_factory=Counter)
    # host -> (start time, path) of each request
    started: dict[int, list[tuple[float, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def article_hits(self) -> Counter[str]:
        return Counter({k: v for k, v in self.hits.items() if "/a/" in k})


@contextmanager
def serve(hosts: int = 4, pages: int = 500, latency: float = 0.0) -> Iterator[Site]:
    """Serve `hosts` hosts of `pages` articles each; each response waits `latency` seconds."""
    servers: list[ThreadingHTTPServer] = []
    site = Site(starts=[], pages=pages)
    index = index_html(pages)

    for number in range(hosts):

        class Handler(BaseHTTPRequestHandler):
            host = number

            def do_GET(self) -> None:
                with site.lock:
                    site.hits[f"{self.host}:{self.path}"] += 1
                    site.inflight[self.host] += 1
                    site.max_inflight[self.host] = max(
                        site.max_inflight[self.host], site.inflight[self.host]
                    )
                    site.started.setdefault(self.host, []).append((time.monotonic(), self.path))
                try:
                    self._answer()
                finally:
                    with site.lock:
                        site.inflight[self.host] -= 1

            def _answer(self) -> None:
                if latency:
                    time.sleep(latency)
                if self.path == "/":
                    body = index
                elif self.path.startswith("/a/") and self.path.endswith(".html"):
                    try:
                        body = article_html(self.host, int(self.path[3:-5]))
                    except ValueError:
                        body = b""
                else:
                    body = b""
                if not body:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        site.starts.append(f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        yield site
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
