"""The optional C accelerator of the parser; everything else is in pyproject.toml.

`xinwen.parse._walk` makes extraction about twice as fast (bench/extract.py). It is optional:
where it cannot be compiled (no C compiler or Python headers) the install goes on without it
and the same walk runs in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "xinwen.parse._walk",
            ["src/xinwen/parse/_walk.c"],
            optional=True,
            # gcc 12 vectorizes the tag count (many_block_tags) only with -ftree-vectorize.
            extra_compile_args=["-O2", "-ftree-vectorize"],
        )
    ]
)
