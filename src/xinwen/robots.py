"""robots.txt as a policy (RFC 9309), parsed with protego. No I/O here: `Fetcher.robots` fetches.

`RobotsPolicy.from_response(status, body)` turns what the server answered into a policy
(fault-matrix row 22):

- 2xx: the rules in the first `MAX_BYTES` (500 KiB) of the body, a UTF-8 BOM ignored. A body
  with no rules in it (an HTML page, garbage) allows everything.
- 4xx (404, 410, 401, 403, ...): "unavailable", so everything is allowed (RFC 9309 2.3.1.3).
- 429, 5xx, or no answer at all (`status=None`: DNS, connect, timeout): "unreachable", so
  nothing on the host is crawled in this run (RFC 9309 2.3.1.4).

`Crawl-delay` is not in RFC 9309; it is honoured up to `MAX_CRAWL_DELAY` seconds. The
`Sitemap:` lines are the crawl's to read (`RobotsPolicy.sitemaps`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protego import Protego

MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB; more is ignored
MAX_CRAWL_DELAY = 60.0
MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2: follow at least five

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RobotsPolicy:
    """What robots.txt lets a user agent fetch on one host.

    `source` says where the policy came from: `rules` (a robots.txt was parsed), `unavailable`
    (4xx, too many redirects: allow all) or `unreachable` (5xx or no answer: disallow all).
    """

    source: str
    _parser: Protego | None = field(default=None, repr=False, compare=False)
    _allow_all: bool = True

    @classmethod
    def allow_all(cls, source: str = "unavailable") -> RobotsPolicy:
        return cls(source=source, _allow_all=True)

    @classmethod
    def disallow_all(cls, source: str = "unreachable") -> RobotsPolicy:
        return cls(source=source, _allow_all=False)

    @classmethod
    def parse(cls, body: bytes) -> RobotsPolicy:
        """The rules in `body`: its first 500 KiB, a UTF-8 BOM stripped, bad bytes replaced."""
        data = body[:MAX_BYTES]
        if len(body) > MAX_BYTES:
            # Drop the line that was cut in two, so half a rule is never applied.
            data = data[: data.rfind(b"\n") + 1]
        data = data.removeprefix(_BOM)
        text = data.decode("utf-8", errors="replace")
        try:
            parser = Protego.parse(text)
        except Exception:  # protego is lenient, but garbage must never stop a crawl
            return cls.allow_all("rules")
        return cls(source="rules", _parser=parser)

    @classmethod
    def from_response(cls, status: int | None, body: bytes = b"") -> RobotsPolicy:
        """The policy for a robots.txt answer; `status=None` means no answer at all."""
        if status is None or status == 429 or status >= 500:
            return cls.disallow_all("unreachable")
        if 200 <= status < 300:
            return cls.parse(body)
        return cls.allow_all("unavailable")  # 4xx; 3xx here means the redirects ran out

    def allowed(self, url: str, user_agent: str) -> bool:
        """Whether `user_agent` may fetch `url` (a URL on the host this policy is for)."""
        if self._parser is None:
            return self._allow_all
        return bool(self._parser.can_fetch(url, user_agent))

    def sitemaps(self) -> list[str]:
        """The URLs of the `Sitemap:` lines, in order (they belong to no group of rules)."""
        if self._parser is None:
            return []
        return [url.strip() for url in self._parser.sitemaps if url.strip()]

    def crawl_delay(self, user_agent: str) -> float | None:
        """The Crawl-delay for `user_agent` in seconds, at most 60; None when none is given."""
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(user_agent)
        if delay is None or not delay >= 0:  # also catches NaN
            return None
        return min(float(delay), MAX_CRAWL_DELAY)
