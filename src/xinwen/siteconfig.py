"""The sites file: what to crawl per site, as TOML data validated strictly when loaded.

`xinwen crawl --sites sites.toml [--site NAME ...]` reads it (see docs/sites.md)::

    [site.demo]
    start = ["http://127.0.0.1:8765/"]            # pages whose links are followed
    feeds = ["http://127.0.0.1:8765/rss.xml"]     # RSS or Atom feeds
    sitemaps = ["http://127.0.0.1:8765/sitemap.xml"]
    hosts = ["127.0.0.1:8765"]                    # default: the hosts of the URLs above
    article_urls = ['/\\d{4}/\\d{4}/\\d+\\.html$']    # regexes: which found URLs are followed
    listing_urls = ['/(yhyq|xyk)/$']
    rules = "demo-rule.toml"                      # a site-rule file, or [site.demo.extract]

    [site.demo.politeness]
    delay = 2.0                                   # seconds between requests to one host
    concurrency = 1                               # requests in flight per host

A misspelt key, a bad URL or regex, or an unknown site name is a `SitesError` naming the file
and the key, raised before anything is fetched. The site-rule format is `rules.py`'s.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import SitesError
from .rules import ExtractRules, SiteRule, load_rule
from .urls import canonical_url, host_of

_NAME = r"^[a-z0-9_]{1,40}$"  # a site's name is the id of its inline rule (article.site)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_urls(values: list[str]) -> list[str]:
    for value in values:
        url = canonical_url(value)
        if not url.startswith(("http://", "https://")) or not host_of(url):
            raise ValueError(f"not an http(s) URL: {value!r}")
    return values


def _regexes(values: list[str]) -> list[str]:
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from exc
    return values


class Politeness(_Strict):
    """A site's politeness, in place of `--delay` and the per-host concurrency for its hosts."""

    delay: float | None = Field(default=None, ge=0, le=3600)
    concurrency: int | None = Field(default=None, ge=1, le=16)


class SiteSpec(_Strict):
    """One `[site.NAME]` table, as written."""

    start: list[str] = []
    feeds: list[str] = []
    sitemaps: list[str] = []
    hosts: list[str] = []
    article_urls: list[str] = []
    listing_urls: list[str] = []
    politeness: Politeness = Politeness()
    rules: str | None = None
    extract: ExtractRules | None = None
    utc_offset: str | None = Field(default=None, pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")

    _urls = field_validator("start", "feeds", "sitemaps")(_http_urls)
    _patterns = field_validator("article_urls", "listing_urls")(_regexes)

    @field_validator("hosts")
    @classmethod
    def _valid_hosts(cls, value: list[str]) -> list[str]:
        hosts = []
        for host in value:
            found = host_of(f"http://{host.strip()}/")
            if not found or "/" in host or "@" in host:
                raise ValueError(f"not a host name (host or host:port): {host!r}")
            hosts.append(found)
        return hosts

    @model_validator(mode="after")
    def _consistent(self) -> SiteSpec:
        if not (self.start or self.feeds or self.sitemaps):
            raise ValueError("a site needs at least one URL in start, feeds or sitemaps")
        if self.rules is not None and self.extract is not None:
            raise ValueError("give either rules (a file) or [extract], not both")
        if self.utc_offset is not None and self.extract is None:
            raise ValueError("utc_offset belongs with [extract] (a rule file has its own)")
        return self


SiteName = Annotated[str, StringConstraints(pattern=_NAME)]


class SitesFile(_Strict):
    """The whole file: `[site.NAME]` tables."""

    site: dict[SiteName, SiteSpec] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Site:
    """One site of a sites file, resolved: absolute rule file read, hosts and regexes settled."""

    name: str
    start: tuple[str, ...]
    feeds: tuple[str, ...]  # feeds and sitemaps: read as such whatever their content type
    hosts: frozenset[str]  # host or host:port, as `urls.host_of` gives them
    patterns: tuple[re.Pattern[str], ...]  # article_urls + listing_urls; none: follow all
    delay: float | None
    per_host: int | None
    rule: SiteRule | None

    @property
    def urls(self) -> tuple[str, ...]:
        """Every URL the site starts from: pages, feeds and sitemaps."""
        return self.start + self.feeds


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )


def load_sites(path: Path, names: Sequence[str] = ()) -> list[Site]:
    """The sites in the file at `path`, or only those named in `names` (in that order).

    >>> load_sites(Path("sites.toml"), ["demo"])  # doctest: +SKIP
    [Site(name='demo', start=('http://127.0.0.1:8765/',), ...)]
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SitesError(f"cannot read the sites file: {exc}", path=str(path)) from exc
    try:
        parsed = SitesFile.model_validate(data)
    except ValidationError as exc:
        raise SitesError(f"invalid sites file: {_problems(exc)}", path=str(path)) from exc
    chosen = list(dict.fromkeys(names)) or list(parsed.site)
    unknown = [name for name in chosen if name not in parsed.site]
    if unknown:
        known = ", ".join(parsed.site)
        raise SitesError(
            f"no site named {', '.join(unknown)} (the file has: {known})", path=str(path)
        )
    return [_resolve(name, parsed.site[name], path.parent) for name in chosen]


def _resolve(name: str, spec: SiteSpec, folder: Path) -> Site:
    start = tuple(canonical_url(u) for u in spec.start)
    feeds = tuple(canonical_url(u) for u in [*spec.feeds, *spec.sitemaps])
    hosts = frozenset(spec.hosts) | {host_of(u) for u in start + feeds}
    rule = None
    if spec.rules is not None:
        rule = load_rule(folder / spec.rules)
    elif spec.extract is not None:
        rule = SiteRule(
            id=name,
            name=name,
            # Rules match host names, whatever the port (rules.rule_for).
            hosts=sorted({host if host.endswith("]") else host.split(":")[0] for host in hosts}),
            utc_offset=spec.utc_offset or "+08:00",
            extract=spec.extract,
        )
    return Site(
        name=name,
        start=start,
        feeds=feeds,
        hosts=hosts,
        patterns=tuple(re.compile(p) for p in [*spec.article_urls, *spec.listing_urls]),
        delay=spec.politeness.delay,
        per_host=spec.politeness.concurrency,
        rule=rule,
    )


def site_rules(sites: Iterable[Site]) -> list[SiteRule]:
    """The extraction rules the sites bring, to put before the others (they win for their
    hosts)."""
    return [site.rule for site in sites if site.rule is not None]
