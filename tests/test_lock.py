"""The run lock: an overlapping crawl exits 75 at once and touches nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinwen.cli import app
from xinwen.errors import AlreadyRunning
from xinwen.lock import run_lock

runner = CliRunner()


def test_overlapping_crawl_exits_75_and_touches_nothing(tmp_path: Path, site_url: str):
    db = tmp_path / "xinwen.db"
    with run_lock(f"sqlite:///{db}"):
        result = runner.invoke(app, ["crawl", site_url, "--db", str(db), "--delay", "0"])
    assert result.exit_code == 75
    assert result.output.count("\n") == 1
    assert "another xinwen crawl is running" in result.output
    assert not db.exists()  # nothing was opened, let alone written


def test_lock_is_released_after_a_run_and_by_a_killed_process(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with run_lock(url):
        pass
    with run_lock(url):  # released by the first run
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom xinwen.lock import run_lock\n"
         f"with run_lock({url!r}):\n    print('held', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning), run_lock(url):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    deadline = time.monotonic() + 5
    while True:  # the kernel releases a dead process's flock
        try:
            with run_lock(url):
                break
        except AlreadyRunning:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_other_engines_have_no_lock_file():
    from xinwen.lock import lock_path

    assert lock_path("postgresql+psycopg://u:p@127.0.0.1/db") is None
    assert lock_path("sqlite:///:memory:") is None
    assert str(lock_path("sqlite:////tmp/a.db")) == "/tmp/a.db.lock"
