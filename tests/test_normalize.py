"""Normalization: pinyin glosses, script detection and conversion, whitespace, boilerplate."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import opencc
import pytest

from xinwen import normalize as normalize_module
from xinwen.models import Block, Decoded, Extracted
from xinwen.normalize import (
    _s2t_characters,
    body_text,
    clean_whitespace,
    detect_script,
    is_boilerplate,
    normalize,
    strip_glosses,
)
from xinwen.record import Section

# --- Pinyin glosses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("銀行領導(dǎo)表示", "銀行領導表示"),
        ("實現(xiàn)目標", "實現目標"),
        ("領導（dǎo）層", "領導層"),
        ("領導( dǎo )層", "領導層"),
        ("銀行(yín háng)貸款", "銀行貸款"),
        ("銀行（yín háng）貸款", "銀行貸款"),
        ("銀行 (yín háng)貸款", "銀行貸款"),
        ("西安(Xī'ān)市", "西安市"),
        ("逾期(YÚ QĪ)處理", "逾期處理"),
        ("女(nǚ)士", "女士"),
        # After a Latin letter too (a character lost to mojibake).
        ("B(tài)", "B"),
        # Combining tone marks instead of precomposed letters.
        ("領導(da\u030co)人", "領導人"),
        ("銀行(yi\u0301n ha\u0301ng)貸款", "銀行貸款"),
        # Several glosses in one sentence.
        ("領導(dǎo)實現(xiàn)了目標", "領導實現了目標"),
    ],
)
def test_strip_glosses_removes_pinyin(text, expected):
    assert strip_glosses(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "国内生产总值(GDP)增长5%",
        "国内生产总值（GDP）增长5%",
        "今年(2024)的目标",
        "手机应用(app)下载量",
        "（一）总体要求",
        "(二)具体措施",
        "中国(China)与美国",
        "上海(Shanghai)",  # toneless pinyin is indistinguishable from an English word
        # Accented words that are not pinyin.
        "咖啡(café)",
        "简历(résumé)",
    ],
)
def test_strip_glosses_leaves_other_parentheses(text):
    assert strip_glosses(text) == text


@pytest.mark.parametrize(
    ("text", "expected"), [("朋友(péng you)来了", "朋友来了"), ("東西(dōng xi)很多", "東西很多")]
)
def test_strip_glosses_with_a_neutral_tone_syllable(text, expected):
    assert strip_glosses(text) == expected


# --- Script detection ------------------------------------------------------------------------

TRADITIONAL = (
    "香港金融管理局今日發佈指引，要求銀行加強對信用卡逾期個案的管理，並為客戶提供還款選擇。"
)
SIMPLIFIED = (
    "香港金融管理局今日发布指引，要求银行加强对信用卡逾期个案的管理，并为客户提供还款选择。"
)
# 批覆 is the traditional spelling of 批复, so OpenCC t2s turns 首批覆盖 into 首批复盖.
COVERAGE = "首批覆盖全国三十个城市的信用卡逾期调解试点已经启动，预计明年扩大范围。"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        (TRADITIONAL, "zh-Hant"),
        (SIMPLIFIED, "zh-Hans"),
        (COVERAGE, "zh-Hans"),
        ("台灣銀行與臺北市政府簽署協議，共同推動數位轉型。", "zh-Hant"),
        ("台湾银行与台北市政府签署协议，共同推动数字化转型。", "zh-Hans"),
        # No script-specific character at all: simplified is the default.
        ("中国人民", "zh-Hans"),
        ("", "zh-Hans"),
    ],
)
def test_detect_script(text, script):
    assert detect_script(text) == script


def test_detect_script_is_not_fooled_by_a_few_traditional_characters():
    # A simplified article quoting one traditional name stays simplified.
    text = SIMPLIFIED + "记者从「臺灣」方面获悉，相关措施仍在研究之中。"
    assert detect_script(text) == "zh-Hans"


# --- Whitespace ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u3000\u3000央行今日发布公告。", "央行今日发布公告。"),
        ("  央行今日发布公告。  ", "央行今日发布公告。"),
        ("\u00a0\u00a0央行今日发布公告。", "央行今日发布公告。"),
        ("央行\u200b今日\u200c发布\u200d公告。", "央行今日发布公告。"),
        ("\ufeff央行今日发布公告。\u2060", "央行今日发布公告。"),
        ("中国\u00a0人民银行", "中国 人民银行"),
        ("Visa\u3000\u3000\u00a0卡", "Visa 卡"),
        ("第一段。\r\n第二段。\r第三段。", "第一段。\n第二段。\n第三段。"),
        ("\u3000\u3000第一段。\n\n\u3000\u3000\n\u3000\u3000第二段。\n", "第一段。\n第二段。"),
        (
            "标点「引号」、《书名》，（括号）：；！？……——",
            "标点「引号」、《书名》，（括号）：；！？……——",
        ),
        ("制表\t符", "制表 符"),
    ],
)
def test_clean_whitespace(text, expected):
    assert clean_whitespace(text) == expected


def test_clean_whitespace_keeps_every_line_in_order():
    lines = ["一、总体要求", "坚持稳中求进。", "二、主要任务", "加强信用卡逾期管理。"]
    messy = "\n".join(f"\u3000\u3000{line}\u00a0" for line in lines)
    assert clean_whitespace(messy).split("\n") == lines


def test_clean_whitespace_fast_path_only_skips_what_the_regexes_leave_alone():
    # A printable text skips the regexes: every character they remove or replace but " " must
    # be unprintable, or the fast path would keep it.
    for regex in (normalize_module._SPACES_RE, normalize_module._INVISIBLE_RE):
        for code in range(0x110000):
            char = chr(code)
            if char != " " and regex.fullmatch(char):
                assert not char.isprintable(), hex(code)
    assert clean_whitespace("  央行  今日 发布 ") == "央行 今日 发布"


@pytest.mark.parametrize(
    ("texts", "body"),
    [
        (["央行今日发布公告。", "領導(da\u030co)人"], "央行今日发布公告。\n领导人"),
        (["央行今日发布公告。", "銀行(YÍN HÁNG)貸款"], "央行今日发布公告。\n银行贷款"),
        (["央行今日发布公告。", "咖啡(cafe\u0301)"], "央行今日发布公告。\n咖啡(café)"),
    ],
)
def test_tone_marks_are_found_in_any_block(texts, body):
    # The body is searched once for tone marks (either case, precomposed or combining), and
    # only then are blocks composed and stripped of glosses.
    extracted = Extracted(url=None, title="標題", blocks=[Block(text) for text in texts])
    article = normalize(extracted, Decoded("", "utf-8", "meta", 0), url="u", site="s")
    assert article.body == body


# --- Boilerplate -----------------------------------------------------------------------------

# One line per pattern in data/boilerplate.toml, written in simplified Chinese.
BOILERPLATE = [
    "声明：本文内容由网友自发贡献。",
    "特别声明：以上内容不构成投资建议。",
    "免责声明：本网站转载的内容仅供参考。",
    "本站仅提供信息存储空间服务，不拥有所有权。",
    "本站仅提供信息发布平台。",
    "本文仅代表作者本人观点，与本网站无关。",
    "文章仅代表作者观点",
    "如有侵权请联系删除",
    "内容侵权请举报",
    "删帖举报请拨打热线",
    "联系方式：010-12345678",
    "投稿邮箱：tougao@example.com",
    "举报电话：12377",
    "打开APP 查看更多精彩内容",
    "打开app",
    "请在App内阅读全文",
    "前往APP中查看",
    "下载融知网客户端",
    "下载APP",
    "相关阅读",
    "最新文章：",
    "猜你喜欢",
    "原标题：信用卡逾期怎么办",
    "（完）",
    "完",
    "（责任编辑：王小明）",
    "编辑：李华",
    "来源：新华社",
    "本文来源：融知网",
    "未经本网授权，不得转载",
    "未经许可严禁转载",
    "版权所有 © 2024 融知网",
    "版权声明",
    "扫码关注公众号",
    "扫描二维码关注我们",
    "分享到：微信 微博",
    "点击阅读原文",
    "点击查看全文",
    "1 2 3 下一页",
    "上一页 1 2 下一页 末页",
    "以上内容为创作者平台用户上传并发布，本平台仅提供信息存储服务",
    "相关报道：",
    "文章来源：千龙网",
    "发表评论",
    "播报",
    "语音播报文章，释放双眼",
    "减少或屏蔽此类内容推荐",
    "00:00/01:45",
    "1.75X",
    "高清",
    "播放速度：2X",
    "很抱歉，当前视频播放失败",
    "· (2005-04-27 14:32PM)",
]


@pytest.mark.parametrize("line", BOILERPLATE)
def test_is_boilerplate(line):
    assert is_boilerplate(line)


def test_every_boilerplate_pattern_has_an_example():
    # A pattern added to the data file needs an example line above.
    raw = resources.files("xinwen").joinpath("data/boilerplate.toml").read_text("utf-8")
    patterns = tomllib.loads(raw)["patterns"]
    assert patterns
    for pattern in patterns:
        assert any(re.search(pattern, line, re.IGNORECASE) for line in BOILERPLATE), pattern


LONG_PARAGRAPH = (
    "中国人民银行在当天发布的声明中表示，将继续实施稳健的货币政策，保持流动性合理充裕。"
    "据多个来源证实，多家商业银行已经开始下调存量房贷利率，部分银行还调整了信用卡分期手续费。"
    "业内人士分析，此次调整主要是为了减轻借款人的还款压力，同时也有助于稳定消费信心。"
    "不过，也有专家提醒，利率下调并不意味着可以放松风险管理，金融机构仍需审慎评估借款人的"
    "还款能力，防止出现新的逾期和坏账。"
)


@pytest.mark.parametrize(
    "line",
    [
        LONG_PARAGRAPH,
        "声明：" + LONG_PARAGRAPH,  # over max_length: a real paragraph that opens with a label
        "该行在声明中表示，将依法维护消费者的合法权益。",
        "记者从多个来源获悉，新规将于明年一月起实施。",
        "警方正在调查这笔资金的来源：目前尚无结论。",
        "编辑部收到大量读者来信，反映信用卡逾期后被频繁催收。",
        "相关文章将在下周陆续发表。",
        "完成率超过九成。",
        "分享经济在我国快速发展。",
        "点击量最高的是一篇关于房贷的文章。",
        "10:30 救援队抵达现场，开始搜救。",
        "高清视频显示，事发时车辆正在倒车。",
        "编辑部收到读者来信后，立即展开调查。",
        "相关报道显示，该公司去年亏损。",
        "2005-04-27 14:32 本报记者从现场发回报道。",
    ],
)
def test_is_not_boilerplate(line):
    assert not is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    ["持卡人可在手机银行App内查看分期账单。", "法院判决被告停止侵权，并删除相关视频。"],
)
def test_short_news_sentences_are_not_boilerplate(line):
    assert not is_boilerplate(line)


# --- normalize() end to end ------------------------------------------------------------------

DECODED = Decoded(text="", encoding="big5hkscs", source="meta", errors=0)


@pytest.fixture
def traditional_page() -> Extracted:
    return Extracted(
        url="https://news.example.hk/2024/1106/1.html",
        title="\u3000香港銀行(yín háng)業公佈新規",
        category="財經新聞",
        published_at="2024-11-06T19:15:00+08:00",
        author="陳大文",
        source="來源網站",
        blocks=[
            Block("\u3000\u3000香港金融管理局今日發佈指引，要求銀行加強對信用卡逾期個案的管理。"),
            Block("聲明：本文僅代表作者觀點。"),
            Block("一、監管背景", heading_level=1),
            Block("金管局表示，近年逾期個案持續增加，領導(lǐng dǎo)層須正視問題。"),
            Block("二、具體措施", heading_level=1),
            Block("1.1 還款安排", heading_level=2),
            Block("銀行須為客戶提供分期還款選擇。\n責任編輯：王小明"),
            Block("打開App，閱讀更多精彩內容"),
            Block("（完）"),
        ],
        extracted_by={"title": "generic:h1"},
    )


def test_normalize_traditional_page(traditional_page):
    article = normalize(traditional_page, DECODED, url="https://news.example.hk/1", site="example")
    assert article.lang_original == "zh-Hant"
    assert article.title == "香港银行业公布新规"
    assert article.category == "财经新闻"
    assert article.author == "陈大文"
    assert article.source == "来源网站"
    assert article.published_at == "2024-11-06T19:15:00+08:00"
    assert article.sections == [
        Section(
            heading=None,
            level=0,
            text="香港金融管理局今日发布指引，要求银行加强对信用卡逾期个案的管理。",
        ),
        Section(
            heading="一、监管背景",
            level=1,
            text="金管局表示，近年逾期个案持续增加，领导层须正视问题。",
        ),
        Section(heading="二、具体措施", level=1, text=""),
        Section(heading="1.1 还款安排", level=2, text="银行须为客户提供分期还款选择。"),
    ]
    assert article.body == "\n".join(
        [
            "香港金融管理局今日发布指引，要求银行加强对信用卡逾期个案的管理。",
            "一、监管背景",
            "金管局表示，近年逾期个案持续增加，领导层须正视问题。",
            "二、具体措施",
            "1.1 还款安排",
            "银行须为客户提供分期还款选择。",
        ]
    )
    assert article.encoding == "big5hkscs"
    assert article.encoding_source == "meta"
    assert article.extracted_by == {"title": "generic:h1"}
    assert article.url == "https://news.example.hk/1"
    assert article.site == "example"


def test_normalize_composes_combining_tone_marks():
    # The fully decomposed ǚ (u + diaeresis + caron) is only recognised once composed.
    extracted = Extracted(
        url=None, title="女(nu\u0308\u030c)士優先", blocks=[Block("婦女(nu\u0308\u030c)節")]
    )
    article = normalize(extracted, DECODED, url="u", site="s")
    assert article.title == "女士优先"
    assert article.body == "妇女节"


def test_normalize_keeps_simplified_text_unconverted():
    extracted = Extracted(
        url=None,
        title="首批覆盖城市名单公布",
        category="银行逾期",
        blocks=[
            Block(COVERAGE),
            Block("乾隆年间的著名案例（一）", heading_level=1),
            Block(SIMPLIFIED),
        ],
    )
    article = normalize(extracted, DECODED, url="u", site="s")
    assert article.lang_original == "zh-Hans"
    assert article.title == "首批覆盖城市名单公布"
    assert article.category == "银行逾期"
    assert "首批覆盖" in article.body
    assert "首批复盖" not in article.body
    assert article.body == "\n".join([COVERAGE, "乾隆年间的著名案例（一）", SIMPLIFIED])


def test_normalize_empty_fields_become_none():
    extracted = Extracted(url=None, title="\u3000\u00a0", category=None, blocks=[Block("\u3000")])
    article = normalize(extracted, DECODED, url="u", site="s")
    assert article.title is None
    assert article.category is None
    assert article.sections == []
    assert article.body == ""


def test_body_text_puts_headings_on_their_own_lines():
    sections = [
        Section(heading=None, level=0, text="导语。"),
        Section(heading="一、背景", level=1, text="第一段。\n第二段。"),
        Section(heading="二、措施", level=1, text=""),
    ]
    assert body_text(sections) == "导语。\n一、背景\n第一段。\n第二段。\n二、措施"


def test_icon_glyphs_and_spaces_at_the_ends_of_a_field_go_inside_ones_stay():
    extracted = Extracted(
        url=None,
        title=" \ue004 投身外交 \ue004\u3000",
        category="\ue004",
        author="王\ue123五",  # a rare Han character an old GB page mapped to private use
        source="新华社 \ue004",
        blocks=[Block("正文。")],
    )
    article = normalize(extracted, DECODED, url="u", site="s")
    assert article.title == "投身外交"
    assert article.category is None
    assert article.author == "王\ue123五"
    assert article.source == "新华社"


def test_the_character_table_alone_converts_every_character_as_s2t_does():
    # Script detection loads s2t's character table only (1 MB, not the 26 MB of its phrases):
    # the same answer for every character it classifies.
    joined = "\n".join(chr(code) for code in range(0x3400, 0xA000))
    characters = _s2t_characters()
    assert characters.config != opencc.OpenCC("s2t").config  # the small table, here
    assert characters.convert(joined) == opencc.OpenCC("s2t").convert(joined)
