"""Pages per second for 1, 2 and 4 `xinwen crawl --worker` processes sharing one PostgreSQL
archive, against the same local site (tests/pgsite.py: N hosts on 127.0.0.1 ports).

    scripts/postgres-up                       # as root: start the cluster, create role and db
    .venv/bin/python bench/workers.py         # or --pg URL --hosts 8 --pages 500 --workers 1,2,4

Each round gets a new database. The clock runs from the workers' start to the last one's exit;
pages/s counts stored articles. The server, PostgreSQL and the workers share this machine's
cores, so the figures say how the fleet scales here, not what one worker does alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import pgsite

DEFAULT_PG = "postgresql+psycopg://xinwen:xinwen@127.0.0.1:5432/xinwen_test"


def _round(admin_url: str, site: pgsite.Site, workers: int, per_host: int) -> tuple[float, int]:
    name = f"xinwen_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        init = [sys.executable, "-m", "xinwen", "db", "init", "--db", url]
        subprocess.run(init, check=True, capture_output=True)
        command = [sys.executable, "-m", "xinwen", "crawl", "--worker", "--db", url,
                   "--delay", "0", "--per-host", str(per_host), "--concurrency", "8",
                   "--max-pages", "1000000", "-q", *site.starts]  # fmt: skip
        began = time.monotonic()
        processes = [subprocess.Popen(command) for _ in range(workers)]
        for process in processes:
            if process.wait() != 0:
                raise SystemExit(f"a worker failed with exit code {process.returncode}")
        elapsed = time.monotonic() - began
        engine = create_engine(url)
        with engine.connect() as connection:
            stored = int(connection.execute(text("SELECT count(*) FROM article")).scalar_one())
        engine.dispose()
        return elapsed, stored
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="a database whose role may CREATEDB")
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--pages", type=int, default=250, help="articles per host")
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"{args.hosts} hosts x {args.pages} articles, --per-host {args.per_host}, --delay 0")
    print("| workers | seconds | articles | pages/s | speed-up |")
    print("|---|---|---|---|---|")
    base = None
    for workers in counts:
        with pgsite.serve(hosts=args.hosts, pages=args.pages) as site:
            elapsed, stored = _round(args.pg, site, workers, args.per_host)
        rate = stored / elapsed
        base = base or rate
        print(f"| {workers} | {elapsed:.1f} | {stored} | {rate:.1f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
