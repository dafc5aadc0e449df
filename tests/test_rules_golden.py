"""Golden fixtures of the demo site rule, and the generic extractor on the same pages."""

from __future__ import annotations

from typing import Any

import pytest

from xinwen import demo, extract, load_rules

RULES = load_rules([demo.RULE])


def _pages(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest["article"])


@pytest.mark.parametrize("with_rule", [True, False], ids=["rule", "generic"])
@pytest.mark.parametrize("index", range(4))
def test_demo_pages(manifest: dict[str, Any], index: int, with_rule: bool):
    expected = _pages(manifest)[index]
    data = (demo.SITE / expected["path"].lstrip("/")).read_bytes()
    url = "http://127.0.0.1" + expected["path"]
    article = extract(data, url, rules=RULES if with_rule else ())
    for name in ("title", "category", "published_at", "author", "source"):
        assert getattr(article, name) == expected[name], name
    headings = [s.heading for s in article.sections if s.heading]
    assert [h for h in headings if h not in expected["headings_optional"]] == expected["headings"]
    for snippet in expected["with"]:
        assert snippet in article.body
    for snippet in expected["without"]:
        assert snippet not in article.body
    by = article.extracted_by
    if with_rule:
        assert article.site == "demo"
        assert {by["title"], by["body"], by["published_at"]} == {"rule:demo"}
    else:
        assert article.site == "127.0.0.1"
        assert by["body"] == "generic:density"


def test_listing_pages_are_not_articles(manifest: dict[str, Any]):
    from xinwen.encoding import decode
    from xinwen.parse import extract as parse_extract

    for listing in manifest["listing"]:
        path = listing["path"].lstrip("/") + "index.html"
        html = decode((demo.SITE / path).read_bytes()).text
        extracted = parse_extract(html, "http://127.0.0.1" + listing["path"], links=True)
        assert not extracted.is_article, path
        linked = {link.removeprefix("http://127.0.0.1") for link in extracted.links}
        assert set(listing["articles"]) <= linked
