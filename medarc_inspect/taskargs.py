"""Task arguments, checked when a task is built: one line per mistake, before any model is called.

`-T` values arrive YAML-parsed (`-T n=3` is an int, `-T flag=true` a bool, `-T x=maybe` a string), and Python
callers pass anything at all, so every task checks each argument with one of these before using it. Each check
returns the normalised value or raises `TaskArgError`, whose one-line message names the argument, the value
and what is allowed; the `inspect` command prints it without a traceback and exits non-zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from medarc_inspect.errors import UserFacingError

T = TypeVar("T")

_TRUE, _FALSE = ("true", "1"), ("false", "0")
_EXPIRY = re.compile(r"[1-9][0-9]*[smhDWMY]")  # Inspect's CachePolicy expiry syntax, e.g. 12h, 1W, 3M


class TaskArgError(UserFacingError, ValueError):
    """A task argument with a value the task cannot use."""

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        super().__init__(f"-T {name}={_show(value)} is invalid: {allowed}")
        self.name, self.value = name, value


def flag(name: str, value: Any) -> bool:
    """A boolean: `true`/`false`, or `1`/`0` (as numbers or text); nothing else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise TaskArgError(name, value, "use true or false (or 1 / 0)")


def integer(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None, optional: bool = False
) -> int | None:
    """A whole number within [minimum, maximum]; None only when `optional`. Booleans and floats are refused."""
    if value is None and optional:
        return None
    bounds = _bounds(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TaskArgError(name, value, f"use a whole number{bounds}" + (" or null" if optional else ""))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise TaskArgError(name, value, f"use a whole number{bounds}")
    return value


def number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """A real number within [minimum, maximum]. Booleans and text are refused."""
    bounds = _bounds(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise TaskArgError(name, value, f"use a number{bounds}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise TaskArgError(name, value, f"use a number{bounds}")
    return float(value)


def one_of(name: str, value: Any, allowed: Iterable[str]) -> str:
    """One of the `allowed` names (exact spelling)."""
    options = list(allowed)
    if not isinstance(value, str) or value not in options:
        raise TaskArgError(name, value, f"use one of {', '.join(options)}")
    return value


def subset(name: str, value: Any, allowed: Sequence[T], *, parse: Callable[[Any], T] | None = None) -> list[T]:
    """A non-empty selection from `allowed`, in `allowed` order: a list, one value, or comma-separated text.

    `parse` turns each given item into an element of `allowed` (e.g. `int` for category numbers); an item it
    cannot parse, or one not allowed, is an error.
    """
    items = value if isinstance(value, list | tuple) else (value.split(",") if isinstance(value, str) else [value])
    listed = ", ".join(str(a) for a in allowed)
    chosen = set()
    for item in items:
        candidate = item.strip() if isinstance(item, str) else item
        if isinstance(candidate, bool):
            raise TaskArgError(name, value, f"use a non-empty list from {listed}")
        try:
            candidate = parse(candidate) if parse is not None else candidate
        except (TypeError, ValueError):
            raise TaskArgError(name, value, f"use a non-empty list from {listed}") from None
        if candidate not in allowed:
            raise TaskArgError(name, value, f"use a non-empty list from {listed}")
        chosen.add(candidate)
    if not chosen:
        raise TaskArgError(name, value, f"use a non-empty list from {listed}")
    return [a for a in allowed if a in chosen]


def text(name: str, value: Any, *, optional: bool = False) -> str | None:
    """Non-blank text; None only when `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise TaskArgError(name, value, "use non-empty text" + (" or leave it out" if optional else ""))
    return value


def cache_setting(name: str, value: Any) -> bool | str:
    """`true` (cache for a week), `false` (no cache) or an Inspect cache expiry such as `12h`, `1W`, `3M`."""
    if isinstance(value, str) and _EXPIRY.fullmatch(value.strip()):
        return value.strip()
    try:
        return flag(name, value)
    except TaskArgError:
        raise TaskArgError(
            name, value, "use true, false, or an expiry: a number and one of s m h D W M Y (e.g. 12h, 1W, 3M)"
        ) from None


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    return f" <= {maximum}" if maximum is not None else ""


def _show(value: Any) -> str:
    shown = repr(value) if isinstance(value, str) else str(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
