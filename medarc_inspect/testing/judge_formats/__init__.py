"""Verdict formats that `medarc-mock/judge` can answer in, one module per benchmark.

Each module here defines `reply(prompt: str) -> str | None`: a deterministic verdict in its benchmark's output
format when the prompt asks for that format, else None. The judge tries the modules in name order and falls back
to the MTSamples criteria format (`criteria.py`). Adding a benchmark's format means adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache

Reply = Callable[[str], "str | None"]


@cache
def formats() -> tuple[Reply, ...]:
    """Every format module's `reply`, in module-name order, with the fallback (`criteria`) last."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name != "criteria")
    modules = [importlib.import_module(f"{__name__}.{name}") for name in [*names, "criteria"]]
    return tuple(module.reply for module in modules)


def judge_reply(prompt: str) -> str:
    """The first format's verdict for `prompt` (the criteria format always answers)."""
    for reply in formats():
        text = reply(prompt)
        if text is not None:
            return text
    raise AssertionError("the criteria format always answers")
