"""The `xinwen` command: a thin typer layer over the library. The only module that prints."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from . import __version__
from .errors import AlreadyRunning, ArchiveError, ConfigError, StorageFull, StoreError
from .fetch import FetchSettings

app = typer.Typer(
    help="Scrape Chinese news articles into a SQLite archive (or PostgreSQL) you query with SQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Exit codes (README, docs/cli.md): 1 for a failed database or, for `parse`, a failed page.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_FULL = 3  # the disk or the database is full: nothing half-written; free space, run again
EXIT_LOCKED = 75  # EX_TEMPFAIL: another crawl holds the archive; cron may simply try again

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="XINWEN_DB",
        help="SQLite file, or an SQLAlchemy URL (a value containing ://). Env: XINWEN_DB.",
        show_default=True,
    ),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="Site-rule TOML file or folder of them, added to the built-in rules. Repeatable.",
        exists=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    warc = "warc"


class RowFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(exc: ArchiveError) -> typer.Exit:
    if isinstance(exc, AlreadyRunning):
        code = EXIT_LOCKED
    elif isinstance(exc, StorageFull):
        code = EXIT_FULL
    else:
        code = EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED
    typer.echo(f"xinwen: error: {exc}", err=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from .parse import _tree  # loads the parser: only on request

        walk = "C" if _tree.accelerated else "Python (the C accelerator is not built)"
        typer.echo(f"xinwen {__version__}, tree walk in {walk}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Scrape Chinese news articles into a SQLite archive you query with SQL."""


def _printable(text: str) -> str:
    """`text` with control and format characters (ESC, U+202E) shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Progress:
    """A live line on the terminal while a crawl runs: pages so far by outcome, the last URL.

    Only when stdout is a terminal and neither --quiet nor --json is given: under cron or in
    a pipe the output is the summary line alone. `transient`: the line is gone at the end.
    """

    def __init__(self, enabled: bool) -> None:
        self._counts: Counter[str] = Counter()
        self._bar: Any = None
        if not enabled:
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.table import Column

        line = Column(no_wrap=True, overflow="ellipsis")  # a long URL is cut, not wrapped
        self._bar = Progress(
            SpinnerColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}", markup=False, table_column=line),
            transient=True,
        )  # fmt: skip
        self._task = self._bar.add_task("starting", total=None)
        self._bar.start()

    @property
    def page(self) -> Callable[[str, str], None] | None:
        """The crawl's `on_page` callback, or None when the display is off."""
        return self._page if self._bar is not None else None

    def _page(self, url: str, outcome: str) -> None:
        self._counts[outcome] += 1
        done = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self._counts.items()))
        total = sum(self._counts.values())
        self._bar.update(self._task, description=f"{total} pages ({done})  {_printable(url)}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _run_crawl(
    urls: list[str],
    db: str,
    max_pages: int,
    settings: FetchSettings,
    rule_paths: list[Path],
    quiet: bool,
    as_json: bool = False,
    rest_minutes: float = 10.0,
    worker: bool = False,
    lease: float | None = None,
    sites_file: Path | None = None,
    site_names: list[str] | None = None,
) -> None:
    from .pipeline import crawl
    from .rules import load_rules
    from .siteconfig import load_sites

    progress = _Progress(sys.stdout.isatty() and not quiet and not as_json)
    try:
        if site_names and sites_file is None:
            raise ConfigError("--site names a site of a sites file: give --sites FILE too")
        sites = load_sites(sites_file, site_names or []) if sites_file is not None else []
        rules = load_rules(rule_paths)
        stats = crawl(
            urls, db, max_pages=max_pages, settings=settings, rules=rules, on_page=progress.page,
            rest=timedelta(minutes=rest_minutes), worker=worker,
            lease=timedelta(seconds=lease) if lease is not None else None, sites=sites,
        )  # fmt: skip
    except ArchiveError as exc:
        raise _fail(exc) from None
    finally:
        progress.close()
    if as_json:
        typer.echo(json.dumps(stats.as_json(), ensure_ascii=False))
    elif not quiet or stats.failed:
        typer.echo(stats.summary())


@app.command()
def crawl(
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            help="Start URLs (http or https); optional with --sites or --worker.",
            metavar="URL",
        ),
    ] = None,
    db: DbOption = "xinwen.db",
    max_pages: Annotated[int, typer.Option(help="Stop after this many fetches.", min=1)] = 1000,
    concurrency: Annotated[int, typer.Option(help="Requests in flight in all.", min=1)] = 8,
    per_host: Annotated[int, typer.Option(help="Requests in flight per host.", min=1)] = 2,
    delay: Annotated[
        float, typer.Option(help="Seconds between two requests to one host.", min=0.0)
    ] = 1.0,
    rules: RulesOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only failures.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one line of JSON.")
    ] = False,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Allow hosts other than the start URLs' on loopback or private addresses.",
        ),
    ] = False,
    recheck_after: Annotated[
        float,
        typer.Option(
            help="Minutes before listings and recent articles are fetched again (0: always).",
            min=0.0,
        ),
    ] = 10.0,
    backoff: Annotated[
        float,
        typer.Option(
            help="Seconds the first retry of a failed fetch waits at most; each later retry "
            "doubles it (random jitter; a server's Retry-After is still honoured).",
            min=0.0,
        ),
    ] = 1.0,
    max_per_host: Annotated[
        int,
        typer.Option(
            help="Fetch at most this many pages from one host per run; the rest wait for the "
            "next run.",
            min=1,
        ),
    ] = 5000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker",
            help="Join the shared frontier of a PostgreSQL archive beside other workers, on "
            "this machine or others; per-host limits hold for all of them.",
        ),
    ] = False,
    lease: Annotated[
        float | None,
        typer.Option(
            help="Seconds a worker holds a URL (renewed while it works); a killed worker's "
            "URLs go to the others after this. [default: 120 with --worker]",
            min=1.0,
        ),
    ] = None,
    sites: Annotated[
        Path | None,
        typer.Option(
            "--sites",
            help="A sites file (TOML): start URLs, feeds, sitemaps, hosts, URL patterns, "
            "politeness and rules per site. See docs/sites.md.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", help="Crawl only this site of the sites file. Repeatable."),
    ] = None,
) -> None:
    """Crawl from the start URLs, following links on the same hosts, and store each article.

    Several `--worker` processes on one PostgreSQL archive share the work.
    """
    settings = FetchSettings(
        concurrency=concurrency,
        per_host=per_host,
        delay=delay,
        allow_private=allow_private,
        backoff_base=backoff,
        host_budget=max_per_host,
    )
    _run_crawl(
        urls or [], db, max_pages, settings, rules or [], quiet, as_json, recheck_after,
        worker=worker, lease=lease, sites_file=sites, site_names=site,
    )  # fmt: skip


@app.command()
def parse(
    source: Annotated[str, typer.Argument(help="An HTML file, '-' for stdin, or an http(s) URL.")],
    url: Annotated[
        str | None, typer.Option(help="The page's URL, for a file (site, links, rules).")
    ] = None,
    rules: RulesOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Show the candidates considered for each field and why one won."
        ),
    ] = False,
) -> None:
    """Extract one article and print it as JSON."""
    from .pipeline import explain as explain_page
    from .pipeline import extract, fetch_one
    from .rules import load_rules

    try:
        rule_list = load_rules(rules or [])
        content_type = None
        if source.startswith(("http://", "https://")):
            page = asyncio.run(fetch_one(source))
            data, url, content_type = page.content, url or page.final_url, page.content_type
        elif source == "-":
            data = sys.stdin.buffer.read()
        else:
            try:
                data = Path(source).read_bytes()
            except OSError as exc:
                raise ConfigError(f"cannot read {source}: {exc.strerror}") from exc
        if explain:
            article, trace = explain_page(data, url, rules=rule_list, content_type=content_type)
        else:
            article = extract(data, url, rules=rule_list, content_type=content_type)
    except ArchiveError as exc:
        raise _fail(exc) from None
    if not explain:
        from .report import json_text

        typer.echo(json_text(article.model_dump(), indent=2))
        return
    for name in ("title", "published_at", "category", "author", "source", "body"):
        value = getattr(article, name)
        shown = (value[:60] + "…") if isinstance(value, str) and len(value) > 60 else value
        typer.echo(f"{name}: {shown!r}  <- {article.extracted_by.get(name, 'none')}")
        for item in trace.of(name):
            score = f" [{item.score:g}]" if item.score is not None else ""
            note = f" ({item.note})" if item.note else ""
            typer.echo(f"    {item.method}{score}: {item.value!r}{note}")
    typer.echo(
        f"encoding: {article.encoding} from {article.encoding_source}; flags: {article.flags}"
    )


@app.command()
def demo(
    db: DbOption = "xinwen.db",
    port: Annotated[
        int, typer.Option(help="Port for the demo site on 127.0.0.1 (0: any free port).")
    ] = 8765,
) -> None:
    """Serve a small bundled news site on 127.0.0.1, crawl it into the database, show the rows."""
    from . import demo as demo_site
    from .store import Archive

    try:
        server = demo_site.serve(port)
        base = server.__enter__()
    except OSError as exc:
        typer.echo(f"xinwen: error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        typer.echo(f"Serving the demo site at {base}")
        settings = FetchSettings(concurrency=4, delay=0.0)
        _run_crawl([base], db, 100, settings, [demo_site.RULE], quiet=False)
    finally:
        server.__exit__(None, None, None)
    try:
        with Archive(db) as archive:
            rows = archive.query(
                "SELECT published_at, category, title, length(body) AS chars FROM article"
                " WHERE url LIKE :base ORDER BY published_at DESC LIMIT 10",
                {"base": base + "%"},
            )
    except StoreError as exc:
        raise _fail(exc) from None
    for row in rows:
        typer.echo(
            f"{row['published_at'] or '-':27} {row['category'] or '-':6}\t"
            f"{row['title']} ({row['chars']} chars)"
        )
    where = db if "://" in db else str(Path(db).resolve())
    typer.echo(f'\nStored in {where}. Try:\n  sqlite3 {db} "SELECT title FROM article"')


@app.command()
def history(
    url: Annotated[str, typer.Argument(help="The article's URL, as stored.")],
    db: DbOption = "xinwen.db",
) -> None:
    """Show the stored versions of one article and what changed between them."""
    import difflib

    from .report import terminal_text
    from .store import Archive
    from .urls import canonical_url

    try:
        with Archive(db, must_exist=True) as archive:
            versions = archive.history(canonical_url(url))
    except ArchiveError as exc:
        raise _fail(exc) from None
    if not versions:
        typer.echo(f"xinwen: error: no article stored for {url}", err=True)
        raise typer.Exit(EXIT_FAILED)
    for number, version in enumerate(versions, 1):
        until = version["until"] or "now"
        note = f", replaced by a {version['reason']}" if version["reason"] else ""
        typer.echo(
            f"version {number}: {version['since']} .. {until}{note}"
            f"  [{version['content_hash'][:12]}] {terminal_text(version['title'])}"
        )
    if versions[-1].get("gone_at"):
        typer.echo(f"gone from the site since {versions[-1]['gone_at']}")
    for number, (old, new) in enumerate(itertools.pairwise(versions), 1):
        typer.echo(f"\n--- version {number} -> {number + 1}")
        before = [f"# {old['title']}", *old["body"].splitlines()]
        after = [f"# {new['title']}", *new["body"].splitlines()]
        for line in difflib.unified_diff(before, after, lineterm="", n=1):
            if not line.startswith(("---", "+++")):
                typer.echo(terminal_text(line))


@app.command()
def reparse(
    db: DbOption = "xinwen.db",
    site: Annotated[str | None, typer.Option(help="Only this site (rule id or host).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published on or after this date (ISO).")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Rebuild stored articles from their raw captures with the current parser (no network)."""
    from .pipeline import reparse as reparse_archive
    from .rules import load_rules

    try:
        stats = reparse_archive(db, site=site, since=since, rules=load_rules(rules or []))
    except ArchiveError as exc:
        raise _fail(exc) from None
    typer.echo(stats.summary())


@contextmanager
def _output(path: Path | None) -> Iterator[IO[bytes]]:
    """Standard output, or the file `path` (removed again if the command fails)."""
    if path is None:
        stream = typer.get_binary_stream("stdout")
        try:
            yield stream
            stream.flush()
        except BrokenPipeError:  # the reader (head, less) stopped early: not an error
            with suppress(OSError, ValueError):  # no real file descriptor (tests)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    try:
        stream = path.open("wb")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with stream:
            yield stream
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@app.command()
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl/csv: articles; warc: captures.")
    ] = ExportFormat.jsonl,
    db: DbOption = "xinwen.db",
    since: Annotated[
        str | None,
        typer.Option(help="jsonl/csv: published on or after this date; warc: fetched (ISO)."),
    ] = None,
    site: Annotated[str | None, typer.Option(help="Only this site (rule id or host).")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file, not stdout (.warc: no gzip)."),
    ] = None,
) -> None:
    """Export articles as JSONL or CSV, or the raw captures as a WARC file."""
    from .export import export as export_archive

    try:
        with _output(output) as out:
            name = str(output or "")
            count = export_archive(db, fmt.value, out, since=since, site=site, filename=name)
    except ArchiveError as exc:
        raise _fail(exc) from None
    if output is not None:
        what = "captures" if fmt is ExportFormat.warc else "articles"
        typer.echo(f"wrote {count} {what} to {output}", err=True)


@app.command("sql")
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT statement.", metavar="SQL")],
    db: DbOption = "xinwen.db",
    fmt: Annotated[RowFormat, typer.Option("--format", "-f", help="Output format.")] = (
        RowFormat.table
    ),
) -> None:
    """Run one read-only SQL query on an archive and print the rows (alias: query)."""
    from .report import write_query

    try:
        with _output(None) as out:
            write_query(db, query, out, fmt.value)
    except ArchiveError as exc:
        raise _fail(exc) from None


app.command("query", hidden=True)(sql)  # `xinwen query` is another name for `xinwen sql`


db_app = typer.Typer(
    help="Create or upgrade an archive's schema (for operators of a shared PostgreSQL archive).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@db_app.command("init")
def db_init(db: DbOption = "xinwen.db") -> None:
    """Create an archive with the current schema (upgrading it if it is older)."""
    from .store import Archive

    try:
        with Archive(db) as archive:
            applied = archive.migrated
            version = archive.version
    except ArchiveError as exc:
        raise _fail(exc) from None
    if len(applied) == version:
        typer.echo(f"created at schema version {version}")
    elif applied:
        typer.echo(f"applied {', '.join(map(str, applied))}: schema version {version}")
    else:
        typer.echo(f"already at schema version {version}")


@db_app.command("migrate")
def db_migrate(db: DbOption = "xinwen.db") -> None:
    """Upgrade an existing archive to the current schema, in place."""
    from .store import Archive

    try:
        with Archive(db, must_exist=True) as archive:
            applied = archive.migrated
            version = archive.version
    except ArchiveError as exc:
        raise _fail(exc) from None
    if applied:
        typer.echo(f"applied {', '.join(map(str, applied))}: schema version {version}")
    else:
        typer.echo(f"already at schema version {version}")


@app.command("copy")
def copy(
    source: Annotated[
        str, typer.Option("--from", help="The archive to copy: a SQLite file or an SQLAlchemy URL.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="An empty archive to copy into (created if need be).")
    ],
) -> None:
    """Copy a whole archive to another database, e.g. from SQLite to PostgreSQL."""
    from .store import Archive

    try:
        with Archive(source, must_exist=True) as origin, Archive(target) as destination:
            copied = origin.copy_to(destination)
    except ArchiveError as exc:
        raise _fail(exc) from None
    typer.echo(", ".join(f"{rows} {table}" for table, rows in copied.items()))


@app.command()
def stats(db: DbOption = "xinwen.db", as_json: JsonOption = False) -> None:
    """Show per-site counts: articles, fetches, failures by kind, last fetch, quality flags."""
    from .report import write_stats

    try:
        with _output(None) as out:
            write_stats(db, out, as_json=as_json)
    except ArchiveError as exc:
        raise _fail(exc) from None


@app.command()
def verify(db: DbOption = "xinwen.db") -> None:
    """Check the stored raw pages: recompute each payload's sha256; exit 1 if any differs."""
    from .errors import redact
    from .store import Archive

    try:
        with Archive(db, must_exist=True) as archive:
            report = archive.verify()
    except ArchiveError as exc:
        raise _fail(exc) from None
    for bad in report.mismatches:
        used = ", ".join(_printable(redact(url)) for url in bad.urls) or "no capture"
        more = f" and {bad.captures - len(bad.urls)} more" if bad.captures > len(bad.urls) else ""
        typer.echo(f"{bad.sha256}: {bad.problem}: {bad.detail}; used by {used}{more}")
    size = f"{report.bytes / 1e6:.1f} MB"
    if report.ok:
        typer.echo(f"checked {report.checked} payloads ({size}): all match")
        return
    count = len(report.mismatches)
    which = "1 does not match" if count == 1 else f"{count} do not match"
    typer.echo(f"checked {report.checked} payloads ({size}): {which}", err=True)
    raise typer.Exit(EXIT_FAILED)


@app.command()
def sites(rules: RulesOption = None, as_json: JsonOption = False) -> None:
    """List the configured site rules and the fields each has selectors for."""
    from .report import write_sites
    from .rules import load_rules

    try:
        with _output(None) as out:
            write_sites(load_rules(rules or []), out, as_json=as_json)
    except ArchiveError as exc:
        raise _fail(exc) from None


@app.command()
def search(
    query: Annotated[
        str,
        typer.Argument(help="Words to find (simplified or traditional); all of them must occur."),
    ],
    db: DbOption = "xinwen.db",
    site: Annotated[str | None, typer.Option(help="Only this site (rule id or host).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published on or after this date (ISO).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only articles published on or before this date (ISO).")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many articles.", min=1)] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array (UTF-8) instead of the list.")
    ] = False,
) -> None:
    """Full-text search of the archive: best matches first, each with the match in context."""
    from dataclasses import asdict

    from .pipeline import search as search_archive
    from .report import json_text, terminal_text

    try:
        hits = search_archive(
            db, query, site=site, since=since, until=until, category=category, limit=limit
        )
    except ArchiveError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json_text([asdict(hit) for hit in hits], indent=2))
        return
    # Ranks rather than scores: bm25 values are tiny when a word is in most articles. The
    # stored text is the sites': a title may hold a BiDi override (U+202E), shown escaped.
    for rank, hit in enumerate(hits, 1):
        when = terminal_text((hit.published_at or "-")[:10])
        head = f"{hit.site}  {hit.category or '-'}  {hit.title}"
        typer.echo(f"{rank:3}. {when:10}  {terminal_text(head)}")
        typer.echo(f"     {terminal_text(hit.url)}")
        typer.echo(f"     {terminal_text(hit.snippet)}")
    if not hits:
        typer.echo("no articles match", err=True)


def main() -> None:
    """Entry point of the `xinwen` console script."""
    app()
