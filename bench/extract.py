"""Accuracy and speed of xinwen's extractor and its peers on the shared Chinese article corpus.

Run from the repository root (peers come from the ``bench`` extra, plus jieba for newspaper4k)::

    .venv/bin/python bench/extract.py                      # every tool, markdown table
    .venv/bin/python bench/extract.py --tools xinwen --worst 15 --json /tmp/bench.json

Scoring follows ``<corpus>/README.md`` ("How to score"): both sides go through OpenCC ``t2s`` and
lose all whitespace; body is the F1 of character-bigram multisets, title and category are exact
matches, and publish time matches to the minute (to the day or month where the truth has no time).

Every tool runs in its own subprocess, one after another, so a crash, a hang or a memory leak in
one tool cannot spoil the others, and timing excludes interpreter start-up and imports. The
scoring functions (``score_predictions`` and helpers) import without side effects, so an accuracy
gate test can reuse them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

# Tool name -> distribution name (for the version line). Order is the table order.
TOOLS: dict[str, str] = {
    "xinwen": "xinwen",
    "trafilatura": "trafilatura",
    "gne": "gne",
    "readability-lxml": "readability-lxml",
    "newspaper4k": "newspaper4k",
}

# One prediction: title, published_at (str, wall clock as written), body, and, for tools that
# produce one, category. A missing key or None means "no answer".
Prediction = dict[str, str | None]
Truth = dict[str, Any]


def default_corpus() -> Path:
    """The corpus path: $XINWEN_CORPUS, else ``../shared/corpus`` next to the repository."""
    env = os.environ.get("XINWEN_CORPUS")
    return Path(env) if env else REPO.parent / "shared" / "corpus"


def corpus_present(corpus: Path) -> bool:
    """True when ``corpus`` has the ``truth/`` and ``pages/`` folders."""
    return (corpus / "truth").is_dir() and (corpus / "pages").is_dir()


def load_truths(corpus: Path) -> dict[str, Truth]:
    """All truth files, keyed by page id, in id order."""
    paths = sorted((corpus / "truth").glob("*.json"))
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}


# --- scoring -------------------------------------------------------------------------------------


@cache
def _t2s() -> Callable[[str], str]:
    # Built on first use so that importing this module (as the accuracy gate does) has no cost.
    import opencc

    converter = opencc.OpenCC("t2s")
    return converter.convert


_SPACE = re.compile(r"\s+")  # str patterns match Unicode spaces too: U+3000, U+00A0


def normalize_text(text: str | None) -> str:
    """OpenCC t2s, then drop all whitespace, as the corpus README prescribes for both sides."""
    if not text:
        return ""
    return _SPACE.sub("", _t2s()(text))


def _bigrams(text: str) -> Counter[str]:
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def bigram_f1(pred: str, truth: str) -> float:
    """F1 of the character-bigram multisets of two already normalized strings."""
    p, t = _bigrams(pred), _bigrams(truth)
    if not p or not t:
        # A text of 0 or 1 characters has no bigrams; only an exact match deserves credit.
        return 1.0 if pred == truth else 0.0
    overlap = sum((p & t).values())
    return 2 * overlap / (p.total() + t.total())


# Year, month, then optionally day and hour:minute, with the separators seen in the corpus truth
# ("2005-5-7 21:23:57", ISO with T and offset, "2024-11") and in peer output ("2005年07月03日",
# "2019/01/02 10:30", "12时30分"). Search, not match: GNE returns strings like "发布时间：…".
_WALL_CLOCK = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})(?!\d)"
    r"(?:\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?!\d))?)?"
)


def _iso(value: object) -> str | None:
    # newspaper4k returns datetimes; keep the wall clock as written (isoformat keeps any offset).
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return str(value) if value else None


def wall_clock(value: object) -> tuple[int, ...] | None:
    """(year, month[, day[, hour, minute]]) as written, ignoring any UTC offset; None if unparsable.

    ``value`` is a string in any common Chinese or ISO form, or a date/datetime (its wall clock).

    >>> wall_clock("2024-11-06T19:15:32+08:00"), wall_clock("2005年7月3日"), wall_clock("2024-11")
    ((2024, 11, 6, 19, 15), (2005, 7, 3), (2024, 11))
    """
    text = _iso(value)  # a date or datetime (newspaper4k, a test's prediction) becomes ISO
    if not text:
        return None
    match = _WALL_CLOCK.search(text)
    if match is None:
        return None
    y, m = int(match["y"]), int(match["m"])
    if not 1 <= m <= 12:
        return None
    parts: tuple[int, ...] = (y, m)
    if match["d"] is not None and 1 <= int(match["d"]) <= 31:
        parts += (int(match["d"]),)
        if match["H"] is not None and int(match["H"]) < 24 and int(match["M"]) < 60:
            parts += (int(match["H"]), int(match["M"]))
    return parts


def truth_title(truth: Truth) -> str | None:
    """``title_annotated`` when the page was annotated, else ``title``."""
    return _annotated_else(truth, "title_annotated", "title")


def truth_published(truth: Truth) -> str | None:
    """``published_at_annotated`` when the page was annotated, else ``publish_time``."""
    return _annotated_else(truth, "published_at_annotated", "publish_time")


def _annotated_else(truth: Truth, annotated: str, fallback: str) -> str | None:
    # An annotated field that is present but null is a judgement ("the page shows no date"; see
    # annotation_note, e.g. traf-baike_baidu_com_tanya: "existing publish_time ... disagree (null
    # here)"), so the older field is used only when the page has no annotated field at all.
    value = truth[annotated] if annotated in truth else truth.get(fallback)
    return value if isinstance(value, str) and value.strip() else None


def _ratio(hits: int, n: int) -> float | None:
    return hits / n if n else None


def score_predictions(
    preds: Mapping[str, Prediction], truths: Mapping[str, Truth]
) -> dict[str, Any]:
    """Score one tool's predictions against the corpus truth.

    ``preds`` maps page id to a dict with ``title``, ``published_at``, ``body`` and optionally
    ``category``. A page missing from ``preds`` counts as an empty prediction, so a tool cannot
    gain by skipping pages. Publish time and category are scored only if at least one prediction
    has the key (a tool without that feature gets ``None`` rather than 0).
    Returns ``{"summary": {...}, "pages": {id: {...}}}``; summary rates are fractions in [0, 1],
    or None where there is nothing to score.
    """
    score_time = any("published_at" in p for p in preds.values())
    score_category = any("category" in p for p in preds.values())
    pages: dict[str, dict[str, Any]] = {}
    f1s: list[float] = []
    title_hits = title_n = minute_hits = day_hits = time_n = cat_hits = cat_n = 0
    for page_id, truth in truths.items():
        pred = preds.get(page_id, {})
        row: dict[str, Any] = {}

        if isinstance(truth.get("body"), str):
            want, got = normalize_text(truth["body"]), normalize_text(pred.get("body"))
            row["body_f1"] = bigram_f1(got, want)
            row["truth_chars"], row["pred_chars"] = len(want), len(got)
            f1s.append(row["body_f1"])

        if (title := truth_title(truth)) is not None:
            row["title_ok"] = normalize_text(pred.get("title")) == normalize_text(title)
            title_n += 1
            title_hits += row["title_ok"]

        want_time = wall_clock(truth_published(truth)) if score_time else None
        if want_time is not None:
            got_time = wall_clock(pred.get("published_at")) or ()
            # The truth's precision sets the comparison: minute, day or month.
            row["time_minute_ok"] = got_time[: len(want_time)] == want_time
            row["time_day_ok"] = got_time[: min(len(want_time), 3)] == want_time[:3]
            time_n += 1
            minute_hits += row["time_minute_ok"]
            day_hits += row["time_day_ok"]

        category = truth.get("category_annotated")
        if score_category and isinstance(category, str):
            row["category_ok"] = normalize_text(pred.get("category")) == normalize_text(category)
            cat_n += 1
            cat_hits += row["category_ok"]

        pages[page_id] = row

    summary = {
        "body_n": len(f1s),
        "body_f1_mean": sum(f1s) / len(f1s) if f1s else None,
        "body_ge_0_9": _ratio(sum(f >= 0.9 for f in f1s), len(f1s)),
        "title_n": title_n,
        "title_acc": _ratio(title_hits, title_n),
        "time_n": time_n if score_time else None,
        "time_minute_acc": _ratio(minute_hits, time_n) if score_time else None,
        "time_day_acc": _ratio(day_hits, time_n) if score_time else None,
        "category_n": cat_n if score_category else None,
        "category_acc": _ratio(cat_hits, cat_n) if score_category else None,
    }
    return {"summary": summary, "pages": pages}


# --- extractors (run inside the worker subprocess) -----------------------------------------------

Extractor = Callable[[bytes, Truth], Prediction]


def _decode(data: bytes, truth: Truth) -> str:
    # Peers are handed the truth codec; "replace" because 2 pages hold real corrupt bytes.
    return data.decode(truth["encoding"], errors="replace")


def _xinwen() -> Extractor:
    # Measure the working tree, not whatever older xinwen may be installed in the venv.
    sys.path.insert(0, str(REPO / "src"))
    from xinwen import extract

    def run(data: bytes, truth: Truth) -> Prediction:
        art = extract(data, url=truth.get("url"))
        return {
            "title": getattr(art, "title", None),
            "published_at": _iso(getattr(art, "published_at", None)),
            "category": getattr(art, "category", None),
            "body": getattr(art, "body", None),
        }

    return run


def _trafilatura() -> Extractor:
    import trafilatura

    def run(data: bytes, truth: Truth) -> Prediction:
        # Defaults otherwise; .text is the main text without comments (those are in .comments).
        doc = trafilatura.bare_extraction(
            _decode(data, truth), url=truth.get("url"), with_metadata=True
        )
        if doc is None:
            return {}
        fields = doc if isinstance(doc, dict) else doc.as_dict()
        return {
            "title": fields.get("title"),
            "published_at": _iso(fields.get("date")),
            "body": fields.get("text"),
        }

    return run


def _gne() -> Extractor:
    import gne

    extractor = gne.GeneralNewsExtractor()

    def run(data: bytes, truth: Truth) -> Prediction:
        result = extractor.extract(_decode(data, truth))
        return {
            "title": result.get("title"),
            "published_at": _iso(result.get("publish_time")),
            "body": result.get("content"),
        }

    return run


def _readability() -> Extractor:
    import lxml.html
    import readability

    def run(data: bytes, truth: Truth) -> Prediction:
        doc = readability.Document(_decode(data, truth))
        summary = doc.summary()
        # itertext, not text_content, so block boundaries keep a newline (scoring drops it anyway).
        body = "\n".join(lxml.html.fromstring(summary).itertext()) if summary.strip() else ""
        # No "published_at" key: readability-lxml has no date extraction, so time is not scored.
        return {"title": doc.short_title(), "body": body}

    return run


def _newspaper4k() -> Extractor:
    import jieba  # noqa: F401  # language="zh" needs it (newspaper4k[zh]); fail early, not per page
    import newspaper

    def run(data: bytes, truth: Truth) -> Prediction:
        # fetch_images=False: by default parse() downloads images to pick a top image, which is
        # network I/O (it hung the first run for minutes on DNS), not extraction.
        article = newspaper.Article(truth.get("url") or "", language="zh", fetch_images=False)
        article.download(input_html=_decode(data, truth))
        article.parse()
        return {
            "title": article.title,
            "published_at": _iso(article.publish_date),
            "body": article.text,
        }

    return run


_FACTORIES: dict[str, Callable[[], Extractor]] = {
    "xinwen": _xinwen,
    "trafilatura": _trafilatura,
    "gne": _gne,
    "readability-lxml": _readability,
    "newspaper4k": _newspaper4k,
}


class _PageTimeout(BaseException):
    # BaseException so that a library's broad "except Exception" cannot swallow the alarm.
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _PageTimeout


def _block_network() -> Callable[[], int]:
    """Make every DNS lookup and connect fail at once; return a counter of the attempts."""
    # Extraction must be offline: a lookup or connect would time network latency, or hang in a
    # C-level DNS call that SIGALRM cannot interrupt (newspaper4k's image fetching did).
    attempts = 0

    def refuse(*args: object, **kwargs: object) -> Any:
        nonlocal attempts
        attempts += 1
        raise OSError("network disabled by bench/extract.py")

    socket.getaddrinfo = refuse
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    return lambda: attempts


def _clean(pred: Prediction) -> Prediction:
    # Keep only JSON-safe strings; a tool may hand back lxml smart strings or other objects.
    return {k: (None if v is None else str(v)) for k, v in pred.items()}


def run_worker(
    tool: str, corpus: Path, out: Path, page_timeout: float, warmup: str = "pass"
) -> None:
    """Load every page, warm up, then time ``tool`` over all pages; write the result to ``out``.

    ``warmup`` "pass": one untimed pass over every page first, so that the timed pass measures
    the steady state of a long run (a crawl) for every tool alike; "call": one untimed call only,
    so that one-off set-up that a page first needs (a detector's import, a conversion table)
    is charged to the timed pass.
    """
    warnings.simplefilter("ignore")  # peers warn per page; the parent does not read stderr anyway
    result: dict[str, Any] = {"tool": tool, "available": False}
    try:
        extractor = _FACTORIES[tool]()
    except Exception as exc:  # ImportError, or a broken package failing at import time
        result["error"] = f"{type(exc).__name__}: {exc}"
        out.write_text(json.dumps(result), encoding="utf-8")
        return
    try:
        result["version"] = metadata.version(TOOLS[tool])
    except metadata.PackageNotFoundError:
        result["version"] = "source tree" if tool == "xinwen" else "?"

    network_attempts = _block_network()
    truths = load_truths(corpus)
    pages = [(pid, (corpus / "pages" / f"{pid}.html").read_bytes(), t) for pid, t in truths.items()]
    signal.signal(signal.SIGALRM, _on_alarm)

    # Untimed calls first: lazy one-off set-up (jieba's dictionary takes ~0.8 s; xinwen's charset
    # detector and OpenCC's table, ~50 ms, load on the first page that needs them) is start-up
    # cost, not per-page extraction speed.
    for _, data, truth in pages if warmup == "pass" else pages[:1]:
        try:
            signal.setitimer(signal.ITIMER_REAL, page_timeout)
            extractor(data, truth)
        except (Exception, _PageTimeout):
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    network_before = network_attempts()
    preds: dict[str, Prediction] = {}
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    for pid, data, truth in pages:
        t0 = time.perf_counter()
        try:
            signal.setitimer(signal.ITIMER_REAL, page_timeout)
            preds[pid] = extractor(data, truth)
        except _PageTimeout:
            errors[pid] = f"timeout after {page_timeout:g} s"
        except Exception as exc:
            # An exception is an empty result for this page; it must not end the run.
            errors[pid] = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        seconds[pid] = time.perf_counter() - t0
    elapsed = time.perf_counter() - start

    result.update(
        available=True,
        elapsed_s=elapsed,
        n_pages=len(pages),
        preds={pid: _clean(p) for pid, p in preds.items()},
        errors=errors,
        seconds=seconds,
        network_attempts=network_attempts() - network_before,
        warmup=warmup,
    )
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


# --- parent: run workers, score, report ----------------------------------------------------------


def run_tool(
    tool: str, corpus: Path, page_timeout: float, tool_timeout: float, warmup: str = "pass"
) -> dict[str, Any]:
    """Run ``tool`` in a fresh interpreter and return the worker's result (never raises)."""
    with tempfile.TemporaryDirectory(prefix="xinwen-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool]
        cmd += ["--corpus", str(corpus), "--out", str(out), "--page-timeout", str(page_timeout)]
        cmd += ["--warmup", warmup]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=tool_timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return {"tool": tool, "available": False, "error": f"killed after {tool_timeout:g} s"}
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return {"tool": tool, "available": False, "error": f"exit {proc.returncode}: {tail}"}
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def table_row(tool: str, result: Mapping[str, Any]) -> str:
    """One markdown table row for a tool's result (scored or unavailable)."""
    if not result.get("available"):
        error = str(result.get("error", ""))
        note = "not installed" if "No module named" in error and tool != "xinwen" else "unavailable"
        return f"| {tool} | {note}: {error} |" + " - |" * 6
    s = result["score"]["summary"]
    f1 = "-" if s["body_f1_mean"] is None else f"{s['body_f1_mean']:.3f}"
    time_cell = "-"
    if s["time_minute_acc"] is not None:
        time_cell = f"{_pct(s['time_minute_acc'])} ({_pct(s['time_day_acc'])}) ({s['time_n']})"
    category = (
        "-" if s["category_acc"] is None else f"{_pct(s['category_acc'])} ({s['category_n']})"
    )
    errors = result["errors"]
    timeouts = sum(e.startswith("timeout") for e in errors.values())
    error_cell = f"{len(errors)}" + (f" ({timeouts} timeouts)" if timeouts else "")
    cells = [
        tool,
        f"{f1} ({s['body_n']})",
        _pct(s["body_ge_0_9"]),
        f"{_pct(s['title_acc'])} ({s['title_n']})",
        time_cell,
        category,
        f"{result['n_pages'] / result['elapsed_s']:.1f}",
        error_cell,
    ]
    return "| " + " | ".join(cells) + " |"


def _nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what `nproc` prints, honouring CPU affinity
    except AttributeError:
        return os.cpu_count() or 1


def render(
    results: Mapping[str, Mapping[str, Any]],
    n_pages: int,
    page_timeout: float,
    warmup: str = "pass",
) -> str:
    """The markdown report: table, then machine, input and version notes."""
    lines = [
        "| tool | mean body F1 (n) | pages >= 0.9 | title (n) | "
        "time to the minute (to the day) (n) | category (n) | pages/s | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [table_row(tool, result) for tool, result in results.items()]
    versions = ", ".join(
        f"{tool} {r.get('version', '?')}" for tool, r in results.items() if r.get("available")
    )
    lines += [
        "",
        f"Machine: Python {platform.python_version()}, nproc {_nproc()}, {platform.platform()}.",
        f"Input: {n_pages} pages. xinwen gets the raw bytes and the truth url. Peers get str "
        "decoded with the truth `encoding` field (an advantage: they skip charset detection); "
        "that decode is inside the timed loop for them, as xinwen's own decoding is for xinwen.",
        "Timing: one subprocess per tool, run one after another; each loads all pages, "
        + (
            "extracts every page once untimed (warm-up: lazy set-up such as jieba's dictionary "
            "or a charset detector, and caches, as in a long crawl), then times a second pass "
            if warmup == "pass"
            else "makes one untimed warm-up call (lazy set-up such as jieba's dictionary), "
            "then times the loop "
        )
        + f"over all pages in one process. Per-page timeout {page_timeout:g} s; an exception or "
        "a timeout counts as an empty result for that page (column 'errors').",
        f"Versions: {versions or 'none available'}.",
    ]
    network = {t: r["network_attempts"] for t, r in results.items() if r.get("network_attempts")}
    if network:
        lines.append(f"Network attempts refused during the timed loop (offline guard): {network}.")
    return "\n".join(lines)


def worst_pages(result: Mapping[str, Any], n: int) -> str:
    """The ``n`` pages with the lowest body F1, as a markdown table, with any per-page error."""
    rows = [
        (pid, row)
        for pid, row in result["score"]["pages"].items()
        if row.get("body_f1") is not None
    ]
    rows.sort(key=lambda item: (item[1]["body_f1"], item[0]))
    lines = ["| id | body F1 | truth chars | predicted chars | error |", "|---|---|---|---|---|"]
    for pid, row in rows[:n]:
        error = result["errors"].get(pid, "")
        f1, chars = row["body_f1"], f"{row['truth_chars']} | {row['pred_chars']}"
        lines.append(f"| {pid} | {f1:.3f} | {chars} | {error} |")
    return "\n".join(lines)


def _json_report(results: Mapping[str, Mapping[str, Any]], corpus: Path) -> dict[str, Any]:
    tools: dict[str, Any] = {}
    for tool, r in results.items():
        keys = ("available", "error", "version", "elapsed_s", "n_pages", "network_attempts")
        entry = {k: r.get(k) for k in keys}
        if r.get("available"):
            entry["pages_per_s"] = r["n_pages"] / r["elapsed_s"]
            entry["summary"] = r["score"]["summary"]
            entry["errors"] = r["errors"]
            # Per-page scores plus the short predicted fields; bodies stay out (they are the
            # publishers' text, and large).
            entry["pages"] = {
                pid: {
                    **row,
                    "seconds": r["seconds"].get(pid),
                    **{
                        k: v
                        for k, v in r["preds"].get(pid, {}).items()
                        if k in ("title", "published_at", "category")
                    },
                }
                for pid, row in r["score"]["pages"].items()
            }
        tools[tool] = entry
    machine = {
        "python": platform.python_version(),
        "nproc": _nproc(),
        "platform": platform.platform(),
    }
    return {"corpus": str(corpus), "machine": machine, "tools": tools}


def _parse_tools(value: str) -> list[str]:
    tools = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown tool(s) {unknown}; choose from {list(TOOLS)}")
    return tools


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=None, help="default: $XINWEN_CORPUS or ../shared/corpus"
    )
    parser.add_argument(
        "--tools",
        type=_parse_tools,
        default=list(TOOLS),
        help=f"comma-separated subset of {','.join(TOOLS)}",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write per-tool figures and per-page scores",
    )
    parser.add_argument(
        "--worst", type=int, default=0, metavar="N", help="list the N worst pages by body F1"
    )
    parser.add_argument(
        "--worst-tool",
        default="xinwen",
        choices=list(TOOLS),
        help="tool for --worst (default xinwen)",
    )
    parser.add_argument(
        "--page-timeout", type=float, default=30.0, help="seconds per page (default 30)"
    )
    parser.add_argument(
        "--tool-timeout", type=float, default=1800.0, help="seconds per tool run (default 1800)"
    )
    parser.add_argument(
        "--warmup",
        choices=["pass", "call"],
        default="pass",
        help="untimed before the timed pass: a pass over every page (default: the steady state "
        "of a long run) or one call (one-off set-up charged to the timed pass)",
    )
    parser.add_argument("--worker", choices=list(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    corpus: Path = (args.corpus or default_corpus()).resolve()

    if args.worker:
        run_worker(args.worker, corpus, args.out, args.page_timeout, args.warmup)
        return 0

    if not corpus_present(corpus):
        print(f"Corpus not found at {corpus} (set --corpus or XINWEN_CORPUS); skipping benchmark.")
        return 0

    truths = load_truths(corpus)
    results: dict[str, dict[str, Any]] = {}
    for tool in args.tools:
        print(f"running {tool} ...", file=sys.stderr, flush=True)
        result = run_tool(tool, corpus, args.page_timeout, args.tool_timeout, args.warmup)
        if result.get("available"):
            result["score"] = score_predictions(result["preds"], truths)
        results[tool] = result

    print(render(results, len(truths), args.page_timeout, args.warmup))
    if args.worst:
        chosen = results.get(args.worst_tool, {})
        print(f"\nWorst {args.worst} pages by body F1 for {args.worst_tool}:\n")
        if chosen.get("available"):
            print(worst_pages(chosen, args.worst))
        else:
            reason = chosen.get("error", "not in --tools")
            print(f"({args.worst_tool} not measured or unavailable: {reason})")
    if args.json:
        report = _json_report(results, corpus)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
