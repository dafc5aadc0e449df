"""A parse target for tests/test_workers.py that misbehaves on marked pages (run in a worker).

`KILL-THE-PARSER` in a page's bytes kills the worker process (as a crash in C code or the OOM
killer would), `HANG-THE-PARSER` makes it sleep for an hour (as a regex backtracking would);
`RAISE-NO-CONTENT` raises `NoContent` (an error that must come back as its own class); every
other page goes to the real `parse_page`.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from xinwen.errors import NoContent
from xinwen.workers import Parsed, parse_page


def parse(data: bytes, url: str | None, *args: Any, **kwargs: Any) -> Parsed:
    if b"RAISE-NO-CONTENT" in data:
        raise NoContent("no article body", url=url)
    if b"KILL-THE-PARSER" in data:
        os.kill(os.getpid(), signal.SIGKILL)
    if b"HANG-THE-PARSER" in data:
        time.sleep(3600)
    return parse_page(data, url, *args, **kwargs)
