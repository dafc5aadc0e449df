"""The crawl's progress display: on a terminal only, never under --quiet or --json.

The crawl runs in a subprocess whose stdout is a pseudo-terminal (or a pipe), as a user's shell
or cron would give it.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path


def _crawl(site_url: str, db: Path, *options: str, tty: bool) -> str:
    """Run `xinwen crawl` on the demo site, one page every 0.1 s; return all it wrote."""
    command = [sys.executable, "-m", "xinwen", "crawl", site_url, "--db", str(db),
               "--delay", "0.1", "--concurrency", "1", *options]  # fmt: skip
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    if not tty:
        done = subprocess.run(command, capture_output=True, env=env, timeout=60, check=True)
        return done.stdout.decode()
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_a_progress_line_then_the_summary(site_url: str, tmp_path: Path):
    out = _crawl(site_url, tmp_path / "x.db", tty=True)
    assert "pages (" in out and "new" in out  # the live line: pages so far, by outcome
    # Erased at the end (cursor up, erase line): the summary is left alone on the screen.
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).replace("\r", "\n")
    assert text.strip().splitlines()[-1].startswith("fetched 7, 4 new"), out[-300:]


def test_no_terminal_no_progress(site_url: str, tmp_path: Path):
    out = _crawl(site_url, tmp_path / "x.db", tty=False)
    assert out.startswith("fetched 7, 4 new") and out.count("\n") == 1
    assert "\x1b" not in out


def test_quiet_and_json_show_no_progress_on_a_terminal(site_url: str, tmp_path: Path):
    assert _crawl(site_url, tmp_path / "q.db", "--quiet", tty=True) == ""
    out = _crawl(site_url, tmp_path / "j.db", "--json", tty=True)
    assert out.strip().startswith('{"run_id": 1') and "\x1b" not in out
