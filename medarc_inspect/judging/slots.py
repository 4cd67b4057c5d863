"""Fill a judge prompt's slots in one pass, so an answer can never rewrite the prompt around it.

Chained `str.replace` rescans text already inserted: an answer containing `{GOLD_RESPONSE}` would get the
reference pasted into it. `fill_slots` finds every slot in the *template* once and substitutes them all
together (the semantics of `string.Template.substitute`): inserted text is never scanned again, and `$`, `\\`
or braces in it are copied literally. Braces that are not slots (e.g. a JSON example) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DEFAULT_STYLE = "{NAME}"
_NAME = "NAME"


class SlotError(ValueError):
    """The template and the values do not match (a programming error, not a judge failure)."""


def slot_pattern(names: list[str] | tuple[str, ...] | set[str], style: str = DEFAULT_STYLE) -> re.Pattern[str]:
    """A regex matching any of `names` written in `style` (`NAME` marks where the name goes: `{NAME}`,
    `<<NAME>>`, `$NAME`...). Longer names are tried first, so `{GOLD}` never shadows `{GOLD_RESPONSE}`."""
    if style.count(_NAME) != 1:
        raise SlotError(f"slot style must contain NAME exactly once, got {style!r}")
    if not names:
        raise SlotError("no slot names given")
    prefix, suffix = style.split(_NAME)
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(f"{re.escape(prefix)}({alternatives}){re.escape(suffix)}")


def fill_slots(
    template: str, values: Mapping[str, str], *, style: str = DEFAULT_STYLE, allow_unused: bool = False
) -> str:
    """`template` with every slot `style.replace("NAME", name)` replaced by `values[name]`, in one pass.

    Each value must be a string. A name in `values` that the template never uses is a `SlotError` (a template
    mistake) unless `allow_unused`. Slot-like text that is not in `values` stays as written.
    """
    for name, value in values.items():
        if not isinstance(value, str):
            raise SlotError(f"slot {name!r} must be filled with text, got {type(value).__name__}")
    pattern = slot_pattern(list(values), style)
    used: set[str] = set()

    def insert(match: re.Match[str]) -> str:
        used.add(match.group(1))
        return values[match.group(1)]

    filled = pattern.sub(insert, template)
    unused = sorted(set(values) - used)
    if unused and not allow_unused:
        raise SlotError(f"template has no slot for {', '.join(unused)} (style {style!r})")
    return filled
