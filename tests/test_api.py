"""The public surface: a small sorted __all__, and one exception tree drawn in errors.py."""

from __future__ import annotations

import inspect

import xinwen
from xinwen import errors


def test_all_is_sorted_and_importable():
    assert xinwen.__all__ == sorted(xinwen.__all__)
    for name in xinwen.__all__:
        assert hasattr(xinwen, name), name


def test_exception_tree_is_complete_and_drawn():
    classes = [
        obj for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, Exception) and obj.__module__ == errors.__name__
    ]  # fmt: skip
    doc = errors.__doc__ or ""
    kinds = set()
    for cls in classes:
        assert issubclass(cls, errors.ArchiveError), cls
        assert cls.__name__ in doc, f"{cls.__name__} missing from the tree in errors.py"
        assert cls.kind not in kinds, f"duplicate kind {cls.kind}"
        kinds.add(cls.kind)


def test_extract_returns_the_record():
    html = "<title>标题_网站</title><h1>标题</h1><div><p>第一段，正文。</p></div>"
    article = xinwen.extract(html.encode("gb18030"), url="https://news.example.cn/a.html")
    assert isinstance(article, xinwen.Article)
    assert article.title == "标题"
    assert article.site == "news.example.cn"
