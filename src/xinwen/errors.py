"""The exceptions xinwen raises, in one tree.

    ArchiveError                 base of everything xinwen raises
    ├── ConfigError              bad settings, rules or command-line input; nothing was fetched
    │   └── RuleError            a site-rule file failed validation (.path)
    ├── FetchError               fetching one URL failed (.url, .kind)
    │   ├── FetchTimeout         connect, read or total deadline passed
    │   ├── HTTPStatusError      the server answered with a non-2xx status (.status)
    │   └── BodyTooLarge         the body exceeded the configured cap
    ├── ExtractError             a page could not be turned into an article (.url)
    │   ├── DecodeError          the bytes could not be decoded as text
    │   └── NoContent            the page has no article body (a listing, an empty page)
    └── StoreError               the database refused a read or a write (.url of the DB)

Third-party exceptions are converted at one boundary each: httpx's in `fetch`, SQLAlchemy's in
`store`. Every error that concerns one URL carries it, and `kind` is the short, stable label that
is written to the `fetch` table's `error_kind` column (so SQL users can group failures by it).
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class of every exception xinwen raises."""

    kind = "error"


class ConfigError(ArchiveError):
    """Invalid settings, rules or command-line input; raised before any fetch."""

    kind = "config"


class RuleError(ConfigError):
    """A site-rule file failed validation."""

    kind = "rule"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class FetchError(ArchiveError):
    """Fetching one URL failed."""

    kind = "fetch"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url


class FetchTimeout(FetchError):
    """The connect, read or total deadline of a fetch passed."""

    kind = "timeout"


class HTTPStatusError(FetchError):
    """The server answered with a status outside 2xx."""

    kind = "http_status"

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


class BodyTooLarge(FetchError):
    """The response body exceeded the configured cap."""

    kind = "too_large"


class ExtractError(ArchiveError):
    """A fetched page could not be turned into an article."""

    kind = "extract"

    def __init__(self, message: str, *, url: str | None) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.url = url


class DecodeError(ExtractError):
    """The page's bytes could not be decoded as text."""

    kind = "decode"


class NoContent(ExtractError):
    """The page has no article body: a listing, an index or an empty page."""

    kind = "no_content"


class StoreError(ArchiveError):
    """The database refused a read or a write."""

    kind = "store"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url
