"""Site rules: per-site CSS selectors, as TOML data validated strictly when loaded.

A rule file looks like this (see docs/sites.md for the full reference)::

    id = "example"
    name = "示例新闻网"
    hosts = ["news.example.com"]

    [extract]
    title = ["h1.title", { css = "meta[property='og:title']", attr = "content" }]
    published_at = ["div.info span.time"]
    body = "div.article-content"
    drop = ["div.share"]

A misspelt key, a bad selector or an unknown field is a `RuleError` naming the file, raised before
anything is fetched. Fields a rule leaves out fall back to the generic extractor.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from .errors import RuleError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_css(css: str) -> str:
    # Loaded here, not with the module: a crawl's own process never parses a page.
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<p></p>").css(css)
    except Exception as exc:  # selectolax raises a bare ValueError/SelectolaxError
        raise ValueError(f"invalid CSS selector {css!r}: {exc}") from exc
    return css


def _selector_from_str(value: object) -> object:
    return {"css": value} if isinstance(value, str) else value


class Selector(_Strict):
    """Where a field is: a CSS selector and, optionally, the attribute holding the value."""

    css: str
    attr: str | None = None

    @field_validator("css")
    @classmethod
    def _valid_css(cls, value: str) -> str:
        return _check_css(value)


SelectorList = list[Annotated[Selector, BeforeValidator(_selector_from_str)]]


class ExtractRules(_Strict):
    """Selectors per field; the first selector that yields text wins."""

    title: SelectorList = []
    category: SelectorList = []
    published_at: SelectorList = []
    author: SelectorList = []
    source: SelectorList = []
    editor: SelectorList = []
    body: str | None = None  # the element holding the article text
    drop: list[str] = []  # elements removed from the body before its text is taken

    @field_validator("body")
    @classmethod
    def _valid_body(cls, value: str | None) -> str | None:
        return _check_css(value) if value is not None else None

    @field_validator("drop")
    @classmethod
    def _valid_drop(cls, value: list[str]) -> list[str]:
        return [_check_css(css) for css in value]


class SiteRule(_Strict):
    """One site's rule."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    name: str
    hosts: list[str] = Field(min_length=1)
    utc_offset: str = Field(default="+08:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")
    extract: ExtractRules = ExtractRules()

    @field_validator("hosts")
    @classmethod
    def _lower_hosts(cls, value: list[str]) -> list[str]:
        # Host names are case-insensitive; rule_for compares lower-cased names.
        return [host.strip().lower() for host in value]

    @property
    def zone(self) -> timezone:
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    def summary(self) -> dict[str, str | list[str]]:
        """What `xinwen sites` shows: id, name, hosts, zone, and the fields it has selectors for."""
        selected = (n for n in ExtractRules.model_fields if n != "drop")
        fields = [name for name in selected if getattr(self.extract, name)]
        return {"id": self.id, "name": self.name, "hosts": list(self.hosts),
                "utc_offset": self.utc_offset, "fields": fields}  # fmt: skip


def load_rule(path: Path) -> SiteRule:
    """Load and validate one rule file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"cannot read rule file: {exc}", path=str(path)) from exc
    try:
        return SiteRule.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise RuleError(f"invalid site rule: {problems}", path=str(path)) from exc


def load_rules(paths: Iterable[Path] = ()) -> list[SiteRule]:
    """The built-in rules plus those in `paths` (files or folders of `*.toml`)."""
    files = list(_builtin_files())
    for path in paths:
        found = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        if path.is_dir() and not found:
            raise RuleError("no *.toml rule files in this folder", path=str(path))
        files.extend(found)
    rules: list[SiteRule] = []
    seen: dict[str, Path] = {}
    for file in files:
        rule = load_rule(file)
        for key in (f"id {rule.id!r}", *(f"host {h!r}" for h in rule.hosts)):
            if key in seen:
                raise RuleError(f"{key} is already defined in {seen[key]}", path=str(file))
            seen[key] = file
        rules.append(rule)
    return rules


def _builtin_files() -> list[Path]:
    folder = resources.files("xinwen").joinpath("sites")
    if not folder.is_dir():
        return []
    return sorted(Path(str(e)) for e in folder.iterdir() if e.name.endswith(".toml"))


@cache
def builtin_rules() -> tuple[SiteRule, ...]:
    """The rules shipped in `xinwen/sites/`."""
    return tuple(load_rule(file) for file in _builtin_files())


def rule_for(host: str, rules: Iterable[SiteRule]) -> SiteRule | None:
    """The rule whose hosts include `host` (exactly, or as a parent domain), if any."""
    host = host.lower().split(":")[0]
    for rule in rules:
        for candidate in rule.hosts:
            if host == candidate or host.endswith("." + candidate):
                return rule
    return None
