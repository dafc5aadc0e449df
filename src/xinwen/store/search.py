"""Chinese full-text search: an index of overlapping character bigrams (FTS5 or a tsvector).

SQLite's tokenizers cannot search Chinese by themselves: `unicode61` makes one token of a whole
run of Han characters, and `trigram` finds nothing for queries under three characters, which
are the most common Chinese words (`经济`, `逾期`). So the text is cut into bigrams here, in
Python, before FTS5 sees it, and the query gets the same treatment:

    众信普惠逾期  ->  众信 信普 普惠 惠逾 逾期 期

Each run of Han characters becomes its overlapping pairs plus its last character alone, so every
character starts some token and a 1-character query is the prefix query `"贷"*`. Other text
(Latin words, numbers) is left to `unicode61`, which makes words of it. A 2-character query is
one token; a longer one is the phrase of its pairs, which matches exactly where the query occurs
as a substring. docs/schema.md has the measurements and the alternatives weighed.

The index is contentless (`content=''`): it keeps no copy of the bigram text, which would take
twice the space of the articles themselves, and hits are read from `article`. A contentless
FTS5 table forgets a row only when given the text that was indexed, so pure-SQL triggers on
`article` copy the old title and body of every changed or deleted row into
`article_fts_pending`, and `sync()` applies that journal: the store calls it after each article
it writes (in a crawl's batch of writes, once before the batch commits, in the same
transaction), and `search()` calls it first. Whoever writes `article` (xinwen, `sqlite3`, a
script), the index catches up.

On PostgreSQL the same bigram text goes into a `tsvector` per article (`article_search`, GIN),
a query becomes the same tokens joined by `<->`, and a PL/pgSQL trigger fills the same journal;
each worker indexes the article it writes at once (`sync(only=...)`), so workers do not contend
for the journal's rows.

`index_text()` is part of the database format: changing it needs a migration that calls
`rebuild()`, or `sync()` would remove rows with tokens that were never indexed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from ..bigrams import HAN, index_text
from ..bigrams import fold as _fold
from ..errors import ConfigError

TABLE = "article_fts"
JOURNAL = "article_fts_pending"

# bm25 weights of the indexed columns (title, body). A judgement, not a calibration: a title is
# short and names the subject, so with 3.0 an article whose title has the term outranks one that
# repeats it a few times in a long body (tests/test_search.py checks that order).
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0

# Journal entries (or articles, when rebuilding) indexed per round trip: big enough to amortize
# the statements, small enough that a batch of bodies stays a few megabytes.
_BATCH = 500

# Snippets: characters shown, and how many of them come before the first match.
SNIPPET_WIDTH = 80
_LEAD = 20
_MARK = ("【", "】")

_HAN = HAN
_HAN_RUN_RE = re.compile(f"[{_HAN}]+")
# A word as `unicode61` sees one: letters and digits (not `_`), and here no Han character.
_WORD_RE = re.compile(rf"[^\W_{_HAN}]+")
# What --since and --until accept: a year, a month, a day, or a day and a time (ISO-8601).
_WHEN_RE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2})?)?([+-]\d{2}:\d{2}|Z)?)?)?)?")

_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "title, body, content='', tokenize='unicode61')",
    # indexed = 0: a new article, not in the index yet; 1: the index holds old_title, old_body.
    f"CREATE TABLE IF NOT EXISTS {JOURNAL} (seq INTEGER PRIMARY KEY, "
    "article_id INTEGER NOT NULL, indexed INTEGER NOT NULL, old_title TEXT, old_body TEXT)",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON article BEGIN "
    f"INSERT INTO {JOURNAL} (article_id, indexed) VALUES (new.id, 0); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF title, body ON article "
    "WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN "
    f"INSERT INTO {JOURNAL} (article_id, indexed, old_title, old_body) "
    "VALUES (old.id, 1, old.title, old.body); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON article BEGIN "
    f"INSERT INTO {JOURNAL} (article_id, indexed, old_title, old_body) "
    "VALUES (old.id, 1, old.title, old.body); END",
)
_INSERT = text(f"INSERT INTO {TABLE} (rowid, title, body) VALUES (:id, :title, :body)")

# PostgreSQL: the same bigram text in a tsvector per article (title weighted A, body B) under a
# GIN index, and the same journal, filled by one PL/pgSQL trigger.
PG_TABLE = "article_search"
# A tsvector records positions up to 16,383 (and must stay under 1 MB).
_PG_MAX_TOKENS = 16_383
_PG_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (article_id INTEGER PRIMARY KEY "
    "REFERENCES article(id) ON DELETE CASCADE, tsv TSVECTOR NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{PG_TABLE}_tsv ON {PG_TABLE} USING gin (tsv)",
    f"CREATE TABLE IF NOT EXISTS {JOURNAL} (seq BIGSERIAL PRIMARY KEY, "
    "article_id INTEGER NOT NULL, indexed INTEGER NOT NULL, old_title TEXT, old_body TEXT)",
    f"CREATE OR REPLACE FUNCTION {TABLE}_journal() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    f"IF TG_OP = 'INSERT' THEN INSERT INTO {JOURNAL} (article_id, indexed) VALUES (NEW.id, 0); "
    "ELSIF TG_OP = 'DELETE' THEN "
    f"INSERT INTO {JOURNAL} (article_id, indexed) VALUES (OLD.id, 1); "
    "ELSIF OLD.title IS DISTINCT FROM NEW.title OR OLD.body IS DISTINCT FROM NEW.body THEN "
    f"INSERT INTO {JOURNAL} (article_id, indexed) VALUES (NEW.id, 1); "
    "END IF; RETURN NULL; END $$",
    f"CREATE OR REPLACE TRIGGER {TABLE}_journal AFTER INSERT OR UPDATE OR DELETE ON article "
    f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_journal()",
)
_PG_UPSERT = text(
    f"INSERT INTO {PG_TABLE} (article_id, tsv) VALUES (:id, "
    "setweight(to_tsvector('simple', :title), 'A') || "
    "setweight(to_tsvector('simple', :body), 'B')) "
    "ON CONFLICT (article_id) DO UPDATE SET tsv = excluded.tsv"
)
# A contentless table forgets a row when given the values that were indexed for it.
_FORGET = text(
    f"INSERT INTO {TABLE} ({TABLE}, rowid, title, body) VALUES ('delete', :id, :title, :body)"
)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article found by a search; `score` is bm25 made positive (higher is better)."""

    url: str
    title: str | None
    published_at: str | None
    site: str
    category: str | None
    score: float
    snippet: str


# --- the text transform (bigrams.index_text), shared by the index and the queries ------------


def _pieces(term: str) -> list[tuple[bool, str]]:
    """The Han runs (True) and words (False) of one query term, in order; punctuation dropped."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _HAN_RUN_RE.finditer(term):
        pieces.extend((False, w) for w in _WORD_RE.findall(_fold(term[position : match.start()])))
        pieces.append((True, match.group()))
        position = match.end()
    pieces.extend((False, w) for w in _WORD_RE.findall(_fold(term[position:])))
    return pieces


def _phrase(pieces: Sequence[tuple[bool, str]]) -> str:
    """The FTS5 phrase that matches the pieces where they occur in this order, side by side.

    Every string is double-quoted and holds only letters, digits and Han characters, so FTS5
    syntax in a query (`"`, `*`, `AND`, `-`, `(`) is only ever text to find.
    """
    parts: list[str] = []
    for number, (han, piece) in enumerate(pieces):
        last = number == len(pieces) - 1
        if not han:
            parts.append(f'"{piece}"')
            continue
        if len(piece) == 1:
            # At the end of the query the text may go on (贷款: token 贷款), so a prefix; before
            # a word, the Han run ends here in the text too, so its last-character token.
            parts.append(f'"{piece}"*' if last else f'"{piece}"')
            continue
        parts.append('"' + " ".join(map(str.__add__, piece, piece[1:])) + '"')
        if not last:
            parts.append(f'"{piece[-1]}"')  # the run ends before the next piece, as indexed
    return " + ".join(parts)


def match_expression(query: str) -> str:
    """The FTS5 MATCH expression for a user's query: all its space-separated terms, each
    where it occurs as written. Empty when the query has nothing to search for.

    >>> match_expression("逾期 GDP增长")
    '"逾期" AND "GDP" + "增长"'
    """
    phrases = [_phrase(pieces) for term in query.split() if (pieces := _pieces(term))]
    return " AND ".join(phrases)


# --- snippets: the original text around the best match ---------------------------------------


def _patterns(query: str) -> list[re.Pattern[str]]:
    """One regex per query term, finding it in the original text as the index matched it."""
    patterns = []
    for term in query.split():
        pieces = _pieces(term)
        if pieces:
            joined = r"[\W_]*".join(re.escape(piece) for _, piece in pieces)
            patterns.append(re.compile(joined, re.IGNORECASE))
    return patterns


def snippet(body: str, query: str, width: int = SNIPPET_WIDTH) -> str:
    """About `width` characters of `body` around its best match, the matches in 【】.

    The best window holds the most distinct query terms (then the most matches, then the
    earliest). Without a match in the body (a hit on the title alone), the body's opening.

    >>> snippet("第一段。\\n今年经济增长较快，经济结构优化。", "经济")
    '今年【经济】增长较快，【经济】结构优化。'
    """
    spans: list[tuple[int, int, int]] = []  # (start, end, term number)
    for number, pattern in enumerate(_patterns(query)):
        for match in pattern.finditer(body):
            if match.end() > match.start():
                spans.append((match.start(), match.end(), number))
            if len(spans) > 2000:  # enough to choose from on a very long body
                break
    spans.sort()
    if not spans:
        head = body[:width].replace("\n", " ")
        return head + ("…" if len(body) > width else "")
    best, best_key = 0, (-1, -1, 0)
    for first, (start, _, _) in enumerate(spans):
        terms, count = set(), 0
        for s, e, number in spans[first:]:
            if s >= start + width - _LEAD:
                break
            if e <= start + width - _LEAD:
                terms.add(number)
                count += 1
        key = (len(terms), count, -start)
        if key > best_key:
            best, best_key = first, key
    start = spans[best][0]
    paragraph = body.rfind("\n", 0, start) + 1
    begin = paragraph if start - paragraph <= _LEAD else start - _LEAD
    end = min(len(body), begin + width)
    end = max([end] + [e for s, e, _ in spans if s < end])  # never cut a match in two
    marked: list[str] = ["…" if begin > 0 and begin != paragraph else ""]
    position = begin
    for s, e in _merged(spans):
        if begin <= s < end:
            marked += [body[position:s], _MARK[0], body[s:e], _MARK[1]]
            position = e
    marked.append(body[position:end])
    if end < len(body):
        marked.append("…")
    return "".join(marked).replace("\n", " ")


def _merged(spans: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with the overlapping ones joined (terms such as 经济 and 经济增长)."""
    merged: list[tuple[int, int]] = []
    for start, end, _ in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# --- the index: creation, journal, rebuild ---------------------------------------------------


def available(connection: Connection) -> bool:
    """True if this database can hold the index: PostgreSQL, or SQLite compiled with FTS5."""
    if connection.dialect.name == "postgresql":
        return True
    if connection.dialect.name != "sqlite":
        return False
    used = connection.execute(text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")).scalar()
    return bool(used)


def exists(connection: Connection) -> bool:
    """True if the index table is there."""
    if connection.dialect.name == "postgresql":
        regclass = connection.execute(text("SELECT to_regclass(:name)"), {"name": PG_TABLE})
        return regclass.scalar() is not None
    if connection.dialect.name != "sqlite":
        return False
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": TABLE}
    ).first()
    return found is not None


def create(connection: Connection) -> None:
    """Create the index, its journal and the triggers (empty)."""
    if connection.dialect.name == "postgresql":
        for statement in _PG_DDL:
            connection.execute(text(statement))
    elif available(connection):
        for statement in _DDL:
            connection.execute(text(statement))


def migrate(connection: Connection) -> None:
    """Schema 5: create the index and fill it with the articles already stored."""
    if available(connection):
        create(connection)
        rebuild(connection)


def rebuild(connection: Connection) -> int:
    """Index every article again from scratch; returns how many were indexed."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text(f"DELETE FROM {PG_TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')"))
    connection.execute(text(f"DELETE FROM {JOURNAL}"))
    done, last = 0, 0
    while True:
        rows = connection.execute(
            text("SELECT id, title, body FROM article WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return done
        (_pg_index if postgres else _index)(connection, rows)
        done += len(rows)
        last = rows[-1][0]


# Article id -> (title, body, index_text(title), index_text(body)): index text already made
# (by a crawl's parse worker, see `Archive.save_page`), used while the row still holds that title
# and body.
Prepared = Mapping[int, tuple[str | None, str, str, str]]


def _texts(row: Any, prepared: Prepared | None) -> tuple[str, str]:
    article_id, title, body = row
    known = prepared.get(article_id) if prepared else None
    if known is not None and known[0] == title and known[1] == body:
        return known[2], known[3]
    return index_text(title), index_text(body)


def _index(connection: Connection, rows: Sequence[Any], prepared: Prepared | None = None) -> None:
    values = []
    for row in rows:
        title, body = _texts(row, prepared)
        values.append({"id": row[0], "title": title, "body": body})
    connection.execute(_INSERT, values)


def _pg_index(
    connection: Connection, rows: Sequence[Any], prepared: Prepared | None = None
) -> None:
    values = []
    for row in rows:
        title, body = _texts(row, prepared)
        values.append({"id": row[0], "title": _pg_text(title), "body": _pg_text(body)})
    connection.execute(_PG_UPSERT, values)


def _pg_text(indexed: str) -> str:
    # A tsvector keeps positions up to 16,383 and must stay under 1 MB: past that many tokens a
    # phrase could not match anyway, so the rest of a very long body is left out.
    if len(indexed) <= 4 * _PG_MAX_TOKENS:
        return indexed
    return " ".join(indexed.split(" ", _PG_MAX_TOKENS)[:_PG_MAX_TOKENS])


def sync(
    connection: Connection,
    only: int | None = None,
    *,
    present: bool = False,
    prepared: Prepared | None = None,
) -> int:
    """Apply the journal of article changes to the index; returns the entries applied.

    `only`: the article just written, on PostgreSQL, where many workers write at once: each
    indexes its own article (and the rest of the journal is applied by the next search),
    rather than all of them contending for the same journal rows.

    For each article, the first entry since the last sync says what the index holds: nothing
    (a new article), or its old title and body, which are forgotten. Then the article as it is
    now, if it still exists, is indexed. Cheap when the journal is empty (one indexed read).
    `present`: the caller knows the index exists (spares asking the catalog). `prepared`: index
    text already made for some of the articles (see `Prepared`).
    """
    if not present and not exists(connection):
        return 0
    if connection.dialect.name == "postgresql":
        return _pg_sync(connection, only, prepared)
    applied = 0
    while True:
        entries = connection.execute(
            text(
                f"SELECT seq, article_id, indexed, old_title, old_body FROM {JOURNAL} "
                "ORDER BY seq LIMIT :n"
            ),
            {"n": _BATCH},
        ).all()
        if not entries:
            return applied
        # Entries of one article may straddle two batches; include the rest of its entries so
        # that only the first of them counts, and all are cleared together.
        ids = sorted({entry[1] for entry in entries})
        last_seq = entries[-1][0]
        first: dict[int, Any] = {}
        for entry in entries:
            first.setdefault(entry[1], entry)
        forget = [
            {"id": e[1], "title": index_text(e[3]), "body": index_text(e[4])}
            for e in first.values()
            if e[2]
        ]
        if forget:
            connection.execute(_FORGET, forget)
        _reindex(connection, ids, last_seq, _index, prepared)
        applied += len(entries)


def _reindex(
    connection: Connection,
    ids: list[int],
    last_seq: int,
    index: Callable[[Connection, Sequence[Any], Prepared | None], None],
    prepared: Prepared | None = None,
) -> None:
    """Index the articles `ids` as they are now, and clear the journal up to `last_seq` and
    every entry of theirs (later entries describe states already indexed)."""
    marks = ", ".join(f":id{n}" for n in range(len(ids)))
    params = {f"id{n}": value for n, value in enumerate(ids)}
    current = connection.execute(
        text(f"SELECT id, title, body FROM article WHERE id IN ({marks})"), params
    ).all()
    if current:
        index(connection, current, prepared)
    connection.execute(
        text(f"DELETE FROM {JOURNAL} WHERE seq <= :last OR article_id IN ({marks})"),
        {"last": last_seq, **params},
    )


def _pg_sync(connection: Connection, only: int | None, prepared: Prepared | None = None) -> int:
    """PostgreSQL's index keeps a row per article, so an entry only says "index it again"."""
    if only is not None:
        row = connection.execute(
            text("SELECT id, title, body FROM article WHERE id = :id"), {"id": only}
        ).all()
        _pg_index(connection, row, prepared)
        cleared = connection.execute(
            text(f"DELETE FROM {JOURNAL} WHERE article_id = :id"), {"id": only}
        )
        return int(cleared.rowcount)
    applied = 0
    while True:
        entries = connection.execute(
            text(f"SELECT seq, article_id FROM {JOURNAL} ORDER BY seq LIMIT :n"), {"n": _BATCH}
        ).all()
        if not entries:
            return applied
        ids = sorted({entry[1] for entry in entries})
        _reindex(connection, ids, entries[-1][0], _pg_index, prepared)
        applied += len(entries)


def _pg_term(pieces: Sequence[tuple[bool, str]]) -> str:
    """The tsquery for one term: `_phrase`'s tokens, side by side (`<->`)."""
    tokens: list[str] = []
    for number, (han, piece) in enumerate(pieces):
        last = number == len(pieces) - 1
        if not han:
            tokens.append(f"'{piece.lower()}'")
        elif len(piece) == 1:
            tokens.append(f"'{piece}':*" if last else f"'{piece}'")
        else:
            tokens.extend(f"'{pair}'" for pair in map(str.__add__, piece, piece[1:]))
            if not last:
                tokens.append(f"'{piece[-1]}'")
    return "(" + " <-> ".join(tokens) + ")"


def tsquery(query: str) -> str:
    """The PostgreSQL tsquery for a user's query, as `match_expression` is FTS5's.

    Pieces hold only letters, digits and Han characters, so tsquery syntax in a query is only
    ever text to find.

    >>> tsquery("逾期 GDP增长")
    "('逾期') & ('gdp' <-> '增长')"
    """
    terms = [_pg_term(pieces) for term in query.split() if (pieces := _pieces(term))]
    return " & ".join(terms)


# --- queries ---------------------------------------------------------------------------------


def _when(value: str, option: str) -> str:
    if not _WHEN_RE.fullmatch(value):
        raise ConfigError(f"{option} must be an ISO date such as 2024-11-06, not {value!r}")
    return value.replace(" ", "T")


def search(
    connection: Connection,
    query: str,
    *,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """The articles matching `query` (simplified script), best first, with snippets.

    Space-separated terms must all occur. `since` and `until` bound `published_at` (ISO text in
    the site's zone, compared as text; `until` includes the whole day, month or year given);
    articles without a publish time are left out when either is given.
    """
    if not exists(connection):
        if not available(connection):
            raise ConfigError(
                "full-text search needs PostgreSQL, or SQLite built with FTS5, "
                f"not {connection.dialect.name}"
            )
        migrate(connection)  # the index was dropped (or never built): build it now
    sync(connection)
    postgres = connection.dialect.name == "postgresql"
    expression = tsquery(query) if postgres else match_expression(query)
    if not expression or limit < 1:
        return []
    where = [
        f"{PG_TABLE}.tsv @@ to_tsquery('simple', :match)" if postgres else f"{TABLE} MATCH :match"
    ]
    params: dict[str, Any] = {"match": expression, "limit": limit}
    if site is not None:
        where.append("a.site = :site")
        params["site"] = site
    if category is not None:
        where.append("a.category = :category")
        params["category"] = category
    if since is not None:
        where.append("a.published_at >= :since")
        params["since"] = _when(since, "--since")
    if until is not None:
        # Inclusive at the precision given: `2024-11-06` keeps all of that day, `2024-11` all
        # of November, by comparing only as many characters as the bound has.
        where.append("substr(a.published_at, 1, length(:until)) <= :until")
        params["until"] = _when(until, "--until")
    # Rank first, on the index alone when nothing else filters, then read the few winners.
    if postgres:
        # ts_rank's weights are {D, C, B, A}: the title (A) counts TITLE_WEIGHT times the body.
        weights = f"'{{0, 0, {BODY_WEIGHT / TITLE_WEIGHT:.3f}, 1}}'"
        ranked = (
            f"SELECT {PG_TABLE}.article_id AS id, -ts_rank(CAST({weights} AS float4[]), "
            f"{PG_TABLE}.tsv, to_tsquery('simple', :match)) AS rank FROM {PG_TABLE} "
            f"JOIN article a ON a.id = {PG_TABLE}.article_id"
        )
    else:
        join = f"JOIN article a ON a.id = {TABLE}.rowid" if len(where) > 1 else ""
        ranked = (
            f"SELECT {TABLE}.rowid AS id, bm25({TABLE}, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS rank "
            f"FROM {TABLE} {join}"
        )
    sql = (
        f"WITH hits AS ({ranked} WHERE {' AND '.join(where)} ORDER BY rank, id LIMIT :limit) "
        "SELECT a.url, a.title, a.published_at, a.site, a.category, a.body, hits.rank "
        "FROM hits JOIN article a ON a.id = hits.id ORDER BY hits.rank, a.id"
    )
    rows = connection.execute(text(sql), params).all()
    return [
        SearchHit(
            url=url,
            title=title,
            published_at=published_at,
            site=site_,
            category=category_,
            score=-rank,
            snippet=snippet(body, query),
        )
        for url, title, published_at, site_, category_, body, rank in rows
    ]
