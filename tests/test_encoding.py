"""Bytes to text: each case builds real bytes from a Chinese string and expects it back."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from xinwen.encoding import decode, resolve

# 镕 is in GBK but not in GB2312: a page labelled gb2312 that contains it needs the superset.
ZHU = "国务院总理朱镕基今天在北京会见了来访的代表团。"
# Several sentences of ordinary simplified Chinese, long enough for detection to work on.
SIMPLIFIED = (
    "中国人民银行今天发布公告，决定下调金融机构存款准备金率。"
    "此次下调将释放长期资金约一万亿元，有助于保持流动性合理充裕。"
    "分析人士认为，这一举措将进一步降低实体经济的融资成本。"
    "多家商业银行表示，将根据新的政策调整信用卡分期和个人贷款的利率。"
)
# Ordinary traditional Chinese that plain Big5 can encode.
TRADITIONAL = (
    "香港政府今日宣佈，將於下月推出新的經濟措施，以協助中小企業應對當前的困難。"
    "財政司司長表示，這些措施包括減免稅項和提供低息貸款。"
    "市民普遍對此表示歡迎，但亦有學者認為力度不足，政府應進一步加大支援。"
)
# Cantonese characters that plain Big5 lacks and Big5-HKSCS has.
CANTONESE = "佢哋話今日啲嘢賣晒喇，我哋遲咗去，冇得買。"


def page(body: str, meta: str | None = None) -> str:
    """A small HTML page around `body`, declaring `meta` as its charset if given."""
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<html><head>{head}<title>News</title></head><body><p>{body}</p></body></html>"


# --- Declared labels -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ("GBK", "gb18030"),
        ("x-gbk", "gb18030"),
        ("cp936", "gb18030"),
        ("euc-cn", "gb18030"),
        ("gb18030", "gb18030"),
        ('"gbk"', "gb18030"),
        (" gbk ", "gb18030"),
        ("big5", "big5hkscs"),
        ("Big5", "big5hkscs"),
        ("big5-hkscs", "big5hkscs"),
        ("cp950", "big5hkscs"),
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ("utf-7", None),
        ("UTF-7", None),
        ("unicode-1-1-utf-7", None),
        ("x-user-defined", None),
        ("utf-16", None),
        ("%%INVALID%%", None),
        ("no-such-charset", None),
        ("", None),
        (None, None),
    ],
)
def test_resolve(label, codec):
    assert resolve(label) == codec


@pytest.mark.parametrize("label", ["hz-gb-2312", "iso-2022-kr", "csiso2022kr"])
def test_resolve_refuses_stateful_seven_bit_labels(label):
    assert resolve(label) is None


# --- GBK labelled gb2312 ---------------------------------------------------------------------


def test_gbk_bytes_declared_gb2312_in_header():
    text = page(ZHU)
    with pytest.raises(UnicodeEncodeError):
        text.encode("gb2312")  # the premise: 镕 is GBK-only
    decoded = decode(text.encode("gbk"), "text/html; charset=gb2312")
    assert "朱镕基" in decoded.text
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.source == "header"
    assert decoded.errors == 0


@pytest.mark.parametrize(
    "meta",
    [
        "<meta charset=gb2312>",
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
    ],
)
@pytest.mark.parametrize("content_type", [None, "text/html"])
def test_gbk_bytes_declared_gb2312_in_meta(meta, content_type):
    text = f"<html><head>{meta}</head><body><p>{ZHU}</p></body></html>"
    decoded = decode(text.encode("gbk"), content_type)
    assert "朱镕基" in decoded.text
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.source == "meta"
    assert decoded.errors == 0


def test_meta_after_a_long_inline_script_is_found():
    text = "<html><head><script>" + "var a = 1;" * 300 + "</script>"
    text += f"<meta charset=gb2312></head><body>{ZHU}</body></html>"
    assert text.index("<meta") > 1024  # beyond the standard's prescan window
    decoded = decode(text.encode("gbk"))
    assert decoded.text == text
    assert decoded.source == "meta"


def test_gb18030_four_byte_characters_declared_gb2312():
    text = page("欧元符号€与汇率表情😀，以及生僻字𠀀。", meta="gb2312")
    decoded = decode(text.encode("gb18030"), "text/html; charset=gb2312")
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.errors == 0


def test_a_stray_byte_in_a_long_page_keeps_the_declared_codec():
    # One corrupt byte in a long page is real-world corruption, not a sign of the wrong codec.
    first, second = SIMPLIFIED * 10, ZHU * 10
    data = first.encode("gbk") + b"\xff" + second.encode("gbk")
    decoded = decode(data, "text/html; charset=gbk")
    assert decoded.text == first + "\ufffd" + second
    assert decoded.encoding == "gb18030"
    assert decoded.source == "header"
    assert decoded.errors == 1


# --- Undeclared pages ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [SIMPLIFIED, ZHU + SIMPLIFIED, page(ZHU + SIMPLIFIED)])
def test_undeclared_gbk(text):
    decoded = decode(text.encode("gbk"), None)
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.source == "detected"
    assert decoded.errors == 0


@pytest.mark.parametrize("text", [TRADITIONAL, page(TRADITIONAL)])
def test_undeclared_big5(text):
    decoded = decode(text.encode("big5"), "text/html")
    assert decoded.text == text
    assert decoded.encoding == "big5hkscs"
    assert decoded.source == "detected"
    assert decoded.errors == 0


def test_undeclared_ascii_page():
    text = "<html><body><p>Hello</p></body></html>"
    decoded = decode(text.encode("ascii"), None)
    assert decoded.text == text
    assert decoded.source == "default"


# --- Big5 with HKSCS characters --------------------------------------------------------------


@pytest.mark.parametrize("label", ["big5", "BIG5", "x-x-big5"])
def test_big5_header_with_hkscs_characters(label):
    text = page(CANTONESE + TRADITIONAL)
    with pytest.raises(UnicodeEncodeError):
        text.encode("big5")  # the premise: plain Big5 lacks these characters
    decoded = decode(text.encode("big5hkscs"), f"text/html; charset={label}")
    assert "啲嘢" in decoded.text
    assert decoded.text == text
    assert decoded.encoding == "big5hkscs"
    assert decoded.source == "header"
    assert decoded.errors == 0


def test_big5_meta_with_hkscs_characters():
    text = page(CANTONESE, meta="big5")
    decoded = decode(text.encode("big5hkscs"), None)
    assert decoded.text == text
    assert decoded.encoding == "big5hkscs"
    assert decoded.source == "meta"


# --- Declarations that lie -------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/html", "text/html; charset=gb2312"])
def test_utf8_bytes_with_a_lying_gb2312_declaration(content_type):
    text = page(ZHU + TRADITIONAL, meta="gb2312")
    decoded = decode(text.encode("utf-8"), content_type)
    assert decoded.text == text
    assert decoded.encoding == "utf-8"
    assert decoded.errors == 0


def test_utf8_header_on_gbk_bytes_with_meta():
    text = page(ZHU + SIMPLIFIED, meta="gbk")
    decoded = decode(text.encode("gbk"), "text/html; charset=utf-8")
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.source == "meta"
    assert decoded.errors == 0


def test_utf8_header_on_gbk_bytes_without_meta():
    text = page(ZHU + SIMPLIFIED)
    decoded = decode(text.encode("gbk"), "text/html; charset=UTF-8")
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.errors == 0


def test_gbk_header_on_utf8_bytes():
    text = page(ZHU + SIMPLIFIED)
    decoded = decode(text.encode("utf-8"), "text/html; charset=gbk")
    assert decoded.text == text
    assert decoded.encoding == "utf-8"
    assert decoded.errors == 0


@pytest.mark.parametrize("label", ["ISO-8859-1", "iso-8859-1", "windows-1252", "us-ascii"])
def test_default_latin_header_on_gbk_bytes_with_meta(label):
    text = page(ZHU + SIMPLIFIED, meta="gbk")
    decoded = decode(text.encode("gbk"), f"text/html; charset={label}")
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.source == "meta"


# --- BOM and refused labels ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/html; charset=gbk"])
def test_utf8_bom_wins_over_declarations(content_type):
    text = page(ZHU + SIMPLIFIED, meta="gb2312")
    decoded = decode(codecs.BOM_UTF8 + text.encode("utf-8"), content_type)
    assert decoded.text == text  # without the BOM
    assert decoded.encoding == "utf-8"
    assert decoded.source == "bom"
    assert decoded.errors == 0


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_utf16_bom(bom, codec):
    text = page(ZHU, meta="gb2312")
    decoded = decode(bom + text.encode(codec), None)
    assert decoded.text == text
    assert decoded.source == "bom"


# "+ADw-script+AD4-" is "<script>" in UTF-7: a page must never be decoded that way.
SMUGGLED = "<html><body><p>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</p></body></html>"


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [("text/html; charset=utf-7", None), (None, "utf-7"), ("text/html; charset=UTF-7", "utf-7")],
)
def test_utf7_is_never_used(content_type, meta):
    text = SMUGGLED.replace("<html>", f'<html><meta charset="{meta}">') if meta else SMUGGLED
    decoded = decode(text.encode("ascii"), content_type)
    assert decoded.text == text
    assert "<script>" not in decoded.text
    assert decoded.encoding != "utf-7"


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [
        ("text/html; charset=utf-7", None),
        (None, "utf-7"),
        ("text/html; charset=%%INVALID%%", None),
        (None, "%%INVALID%%"),
        ("text/html; charset=no-such-charset", "no-such-charset"),
    ],
)
def test_unusable_labels_are_ignored_on_gbk_bytes(content_type, meta):
    text = page(ZHU + SIMPLIFIED, meta=meta)
    decoded = decode(text.encode("gbk"), content_type)
    assert decoded.text == text
    assert decoded.encoding == "gb18030"
    assert decoded.source == "detected"


# --- The shared corpus of real pages ---------------------------------------------------------


def _corpus() -> Path | None:
    configured = os.environ.get("XINWEN_CORPUS")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared/corpus"
    return path if (path / "truth").is_dir() else None


CORPUS = _corpus()
NO_CORPUS = "evaluation corpus not found: set XINWEN_CORPUS or put it at ../shared/corpus"
# The truth names the narrowest strict codec; xinwen decodes every GB page with the superset.
_TRUTH_CODECS = {"gb2312": "gb18030", "gbk": "gb18030", "utf-8-sig": "utf-8-sig"}


def _corpus_ids() -> list[str]:
    return sorted(p.stem for p in CORPUS.glob("truth/*.json")) if CORPUS else []


@pytest.mark.skipif(CORPUS is None, reason=NO_CORPUS)
@pytest.mark.parametrize("page_id", _corpus_ids())
def test_corpus_page_decodes_like_its_truth(page_id):
    assert CORPUS is not None
    truth = json.loads((CORPUS / "truth" / f"{page_id}.json").read_text("utf-8"))
    data = (CORPUS / "pages" / f"{page_id}.html").read_bytes()
    codec = _TRUTH_CODECS.get(truth["encoding"], truth["encoding"])
    expected = data.decode(codec, errors="replace")
    decoded = decode(data, None)
    assert decoded.text == expected
    # Pages with corrupt bytes (truth decode_errors > 0) may have that many replacements; a
    # page's own literal U+FFFD characters are text, not decode errors.
    assert decoded.errors <= truth["decode_errors"]


@pytest.mark.skipif(CORPUS is None, reason=NO_CORPUS)
def test_corpus_is_not_empty():
    # A moved or emptied corpus would otherwise make the parametrized test above vanish silently.
    assert len(_corpus_ids()) > 100
