"""The exceptions xinwen raises, in one tree.

    ArchiveError                 base of everything xinwen raises
    ├── ConfigError              bad settings, rules or command-line input; nothing was fetched
    │   ├── RuleError            a site-rule file failed validation (.path)
    │   └── SitesError           a sites file failed validation, or names no such site (.path)
    ├── FetchError               fetching one URL failed (.url, .kind, .attempts)
    │   ├── DNSError             the host name did not resolve
    │   ├── ConnectFailed        no TCP connection: refused, unreachable, reset while connecting
    │   ├── TLSError             the TLS handshake or the certificate check failed
    │   ├── FetchTimeout         the connect, read, write or total deadline passed (.phase)
    │   ├── DataLoss             the response broke off: reset, short body, broken chunks,
    │   │                        truncated compressed stream
    │   ├── ProtocolError        the response is not valid HTTP (status line, headers, framing)
    │   ├── HTTPStatusError      the server answered with a non-2xx status (.status, .retry_after)
    │   │   └── RateLimited      429 Too Many Requests
    │   ├── BodyTooLarge         the body exceeded the cap, on the wire or once decoded
    │   ├── RedirectLoop         more redirects than allowed (.chain)
    │   ├── RedirectRefused      a redirect to a scheme other than http(s), never followed
    │   ├── BlockedAddress       a host that resolves to a non-public address, never contacted
    │   ├── ContentDecodeError   the Content-Encoding is corrupt or not supported
    │   └── SoftBlock            a 200 answer that is a block or CAPTCHA page instead
    ├── ExtractError             a page could not be turned into an article (.url)
    │   ├── DecodeError          the bytes could not be decoded as text
    │   ├── NoContent            the page has no article body (a listing, an empty page)
    │   ├── ParseCrash           the worker process parsing the page died on it
    │   ├── ParseTimeout         parsing took longer than the parse timeout (worker stopped)
    │   └── FeedError            a sitemap or feed is not well-formed XML, or neither
    │       ├── UnsafeXML        it declares a DTD or entities: refused unread (XXE, billion laughs)
    │       ├── FeedTooLarge     more than 50 MiB once gunzipped; the URLs before the cap are kept
    │       ├── FeedTruncated    more than 50,000 URLs; the first 50,000 are kept
    │       ├── SitemapDepth     a sitemap index nested too deep; its sitemaps are not fetched
    │       └── SitemapCycle     a sitemap index lists one of the indexes that led to it
    ├── StoreError               the database refused a read or a write (.url of the DB)
    │   ├── StorageFull          the disk (or the database's size limit) is full
    │   └── LeaseLost            a worker's lease on a URL ran out and another took it (.lease_url)
    └── AlreadyRunning           another crawl holds this archive's run lock (.path)

Third-party exceptions are converted at one boundary each: httpx's in `fetch`, SQLAlchemy's in
`store`. Every error that concerns one URL carries it, and `kind` is the short, stable label that
is written to the `fetch` table's `error_kind` column (so SQL users can group failures by it).
Which fetch errors are retried, and how often, is `fetch`'s policy (docs/fetching.md).

Messages are stored and logged, so a `FetchError`'s message is passed through `redact`: a URL's
password and the values of token-like query parameters never reach the `fetch` table or a log.
"""

from __future__ import annotations

import re


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


class SitesError(ConfigError):
    """A sites file (`--sites`) failed validation, or `--site` names a site it does not have."""

    kind = "sites"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class FetchError(ArchiveError):
    """Fetching one URL failed.

    `attempts` is how many requests were made for the URL before giving up (set by the fetcher's
    retry loop), so the crawler can record it. The message is redacted (see `redact`); `url` is
    kept as given, because the caller keys its records by it.
    """

    kind = "fetch"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(redact(f"{message} ({url})"))
        self.url = url
        self.attempts = 1


class DNSError(FetchError):
    """The host name did not resolve."""

    kind = "dns"


class ConnectFailed(FetchError):
    """No TCP connection could be opened: refused, unreachable, or reset while connecting."""

    kind = "connect"


class TLSError(FetchError):
    """The TLS handshake failed or the certificate did not verify."""

    kind = "tls"


class FetchTimeout(FetchError):
    """A deadline passed: `phase` is connect, read, write, pool or total (the whole fetch)."""

    kind = "timeout"

    def __init__(self, message: str, *, url: str, phase: str) -> None:
        super().__init__(message, url=url)
        self.phase = phase


class DataLoss(FetchError):
    """The response broke off before it was complete.

    A reset or close before or during the body, fewer bytes than Content-Length, a chunked body
    without its last chunk, a compressed stream that ends early. What did arrive is discarded.
    """

    kind = "dataloss"


class ProtocolError(FetchError):
    """The response is not valid HTTP: a bad status line, header or framing, a bad Location."""

    kind = "protocol"


class HTTPStatusError(FetchError):
    """The server answered with a status outside 2xx.

    `retry_after` is the server's Retry-After in seconds from now (either form: seconds or an
    HTTP-date), or None when it sent none or an unreadable one.
    """

    kind = "http_status"

    def __init__(
        self, message: str, *, url: str, status: int, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after


class RateLimited(HTTPStatusError):
    """429 Too Many Requests: the server asks the client to slow down."""

    kind = "rate_limited"


class BodyTooLarge(FetchError):
    """The response body exceeded the cap, as sent or once its Content-Encoding was decoded."""

    kind = "too_large"


class RedirectLoop(FetchError):
    """More redirects than allowed; `chain` holds the (redacted) URLs that were requested."""

    kind = "redirect_loop"

    def __init__(self, message: str, *, url: str, chain: tuple[str, ...] = ()) -> None:
        super().__init__(message, url=url)
        self.chain = tuple(redact(link) for link in chain)


class RedirectRefused(FetchError):
    """A redirect pointed at a scheme other than http(s) (file:, ftp:, data:, ...).

    It is refused before any request is made; `location` is the (redacted) target.
    """

    kind = "redirect_scheme"

    def __init__(self, message: str, *, url: str, location: str) -> None:
        super().__init__(message, url=url)
        self.location = redact(location)


class BlockedAddress(FetchError):
    """A host that resolves to a loopback, private, link-local, multicast, unspecified or
    reserved address, and is neither trusted nor allowed by `allow_private` (SSRF guard).

    Raised before any request is made to it; never retried. `address` is the offending address.
    """

    kind = "blocked_address"

    def __init__(self, message: str, *, url: str, address: str) -> None:
        super().__init__(message, url=url)
        self.address = address


class ContentDecodeError(FetchError):
    """The body's Content-Encoding is corrupt or one xinwen cannot decode.

    Its kind is not `decode`: that is `DecodeError`, bytes that are not text in any charset.
    """

    kind = "content_encoding"


class SoftBlock(FetchError):
    """The site answered (with 200) a block or CAPTCHA page instead of the page asked for:
    a title such as 访问过于频繁 or 安全验证 over next to no text (data/soft_block.toml).

    Nothing of it is stored as an article; the URL is tried again by a later run.
    """

    kind = "soft_block"


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


class ParseCrash(ExtractError):
    """The worker process parsing the page died on it (a crash, the OOM killer)."""

    kind = "parse_crash"


class ParseTimeout(ExtractError):
    """Parsing the page took longer than the parse timeout; its worker was stopped."""

    kind = "parse_timeout"


class FeedError(ExtractError):
    """A sitemap or feed could not be read: not well-formed XML, or not a sitemap or feed.

    The subclasses are also the reasons recorded when a feed is read only in part (a cap was
    reached, the XML broke off): `feeds.parse` returns those in `Feed.problems` instead of
    raising them, with the URLs read before the problem.
    """

    kind = "feed"


class UnsafeXML(FeedError):
    """The XML declares a DTD or entities (XXE, billion laughs, an external DTD).

    It is refused when the declaration is met: nothing is expanded, read or fetched.
    """

    kind = "unsafe_xml"


class FeedTooLarge(FeedError):
    """The sitemap is larger than the decoded cap (50 MiB) once its gzip is undone."""

    kind = "feed_too_large"


class FeedTruncated(FeedError):
    """The sitemap or feed lists more URLs than the cap (50,000); the rest are dropped."""

    kind = "feed_truncated"


class SitemapDepth(FeedError):
    """A sitemap index is nested deeper than the limit; the sitemaps it lists are not fetched."""

    kind = "sitemap_depth"


class SitemapCycle(FeedError):
    """A sitemap index lists an index that led to it (A -> B -> A); that link is not followed."""

    kind = "sitemap_cycle"


class StoreError(ArchiveError):
    """The database refused a read or a write."""

    kind = "store"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url


class StorageFull(StoreError):
    """The database could not grow: the disk is full, or a size limit was reached. The write's
    transaction was rolled back; free some space and run again."""

    kind = "out_of_space"


class LeaseLost(StoreError):
    """This worker's lease on a frontier URL ran out and another worker took the URL over;
    what this one was about to write about it was rolled back."""

    kind = "lease_lost"

    def __init__(self, message: str, *, url: str, lease_url: str) -> None:
        super().__init__(message, url=url)
        self.lease_url = lease_url


# Userinfo in a URL (scheme://user:password@host or scheme://token@host).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/?#@\s]*)@")
# One query parameter; its value is masked when its name says it is a secret.
_PARAM = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")
# Names that hold secrets: *token, *key (api_key, apikey), sig and *signature (signed CDN and
# S3 URLs), *secret, *password, *credential, auth*; "author" and "keyword" are not secrets.
_SECRET_NAME = re.compile(
    r"(?i)(?:^auth(?!ors?$)|(?:token|key|sig|signature|secret|password|passwd|credential|auth)$)"
)


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    # A lone user name is often the secret itself (https://TOKEN@host), so it is masked too.
    return f"{match.group(1)}{user}:***@" if colon else f"{match.group(1)}***@"


def _mask_param(match: re.Match[str]) -> str:
    if _SECRET_NAME.search(match.group(2)) and match.group(3):
        return f"{match.group(1)}{match.group(2)}=***"
    return match.group(0)


def redact(text: str) -> str:
    """Mask the credentials in the URLs in `text`: `u:p@` -> `u:***@`, `token=abc` -> `token=***`.

    >>> redact("https://u:p@news.example.com/a?id=7&token=abc (failed)")
    'https://u:***@news.example.com/a?id=7&token=*** (failed)'
    """
    return _PARAM.sub(_mask_param, _USERINFO.sub(_mask_userinfo, text))


class AlreadyRunning(ArchiveError):
    """Another crawl is writing to this archive; this one touched nothing."""

    kind = "locked"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{message} ({path})")
        self.path = path
