"""Hostile pages give a truncated or empty result in bounded time, never a hang or a crash.

Each case runs in a subprocess with a generous deadline (not a speed target: a hang or a
recursion blow-up fails the test, a slow machine does not).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CASES = {
    "80000 nested divs": "'<div>' * 80000 + '正文内容，很长的一段话。' * 10 + '</div>' * 80000",
    "20 MB of text": "'<html><body><p>' + '中文正文，' * 4_000_000 + '</p></body></html>'",
    "50000 links": "'<p>' + ''.join(f'<a href=/a{i}>链接{i}</a>' for i in range(50000)) + '</p>'",
    "20000 ? in a date field": (
        "'<meta property=\"article:published_time\" content=\"' + '?' * 20000 + 'x\">'"
        " + '<p>' + '正文，内容完整的一段话。' * 20 + '</p>'"
    ),
    "deep formatting": "'<b i>' * 20000 + 'x' + '<table>' * 5000 + '<select>' * 16000",
    # Row 30: deeper than libxml2's 256 levels, where lxml-based extractors return nothing.
    "300-deep article wrapper": (
        "'<h1>深层嵌套</h1>' + '<div class=wrap>' * 300"
        " + ''.join(f'<p>{DEEP_TEXT}第{i}段。</p>' for i in range(20)) + '</div>' * 300"
    ),
}
DEEP_TEXT = "新华社北京电，国务院常务会议今天召开，研究部署进一步稳定经济的政策措施。"
SCRIPT = """
import json, sys
from xinwen import extract
DEEP_TEXT = sys.argv[2]
html = eval(sys.argv[1])
article = extract(html.encode("utf-8"), url="http://hostile.test/a.html")
print(json.dumps({"body": len(article.body), "flags": article.flags,
                  "published_at": article.published_at}))
"""


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_page_is_bounded(case: str):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, CASES[case], DEEP_TEXT],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout)
    if case == "20 MB of text":
        assert record["body"] == 500_000 and "body_truncated" in record["flags"]
    if case == "50000 links":
        assert record["body"] == 0  # link text is never a body
    if case == "20000 ? in a date field":
        assert record["published_at"] is None
    if case == "80000 nested divs":
        assert record["body"] > 0
    if case == "300-deep article wrapper":  # all of the text, not a silent empty string
        assert record["body"] >= 0.9 * 20 * (len(DEEP_TEXT) + 4)
