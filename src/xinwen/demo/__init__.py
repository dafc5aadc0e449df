"""A small bundled news site, served on 127.0.0.1, so a new user can see a whole crawl offline.

The pages are our own HTML modelled on the first customer's site (see `site/README.md`); their
expected extraction is in `site/manifest.toml`, which the end-to-end tests check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

SITE = Path(str(resources.files("xinwen").joinpath("demo/site")))
RULE = Path(str(resources.files("xinwen").joinpath("demo/rule.toml")))
DEFAULT_PORT = 8765


class _Handler(SimpleHTTPRequestHandler):
    # No charset in Content-Type, like many Chinese sites: the page's <meta> has to be read.
    extensions_map = {  # noqa: RUF012 (the stdlib declares it as an instance attribute)
        ".html": "text/html",
        ".toml": "text/plain",
        ".md": "text/plain",
    }

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the demo's output to the crawl summary."""

    def list_directory(self, path: Any) -> None:
        """A folder without an index.html is a 404, as on a real site (no generated listings)."""
        self.send_error(404, "Not Found")


@contextmanager
def serve(port: int = 0, root: Path = SITE) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 in a background thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="xinwen-demo", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
