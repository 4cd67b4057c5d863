"""P(yes) of a grader's yes/no answer: from token logprobs where the provider returns them, else the first word.

Logprobs: at the first non-blank answer token, P(yes) = mass(yes) / (mass(yes) + mass(no)), summing every
candidate in the top list (and the sampled token) whose text is "yes" or "no" in any case, with or without
surrounding spaces. If neither appears, or there are no logprobs, the first word decides: yes = 1, no = 0.
Anything else is unparseable (None), never silently "no".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from inspect_ai.model import ModelOutput

Method = Literal["logprobs", "first_word"]
THRESHOLD = 0.5  # a proposition holds when P(yes) >= THRESHOLD
_FIRST_WORD = re.compile(r"[A-Za-z]+")
_LEADING_NOISE = re.compile(r"^[\s*_`\"'“‘(\[#>:.-]*")


@dataclass(frozen=True)
class PYes:
    """One answer's P(yes), how it was obtained, and the raw text."""

    p: float
    method: Method
    text: str

    @property
    def holds(self) -> bool:
        return self.p >= THRESHOLD


def _word(token: str) -> str:
    return token.strip().lower()


def from_logprobs(output: ModelOutput) -> float | None:
    """P(yes) from the first non-blank token's top logprobs, or None if there are none or neither word is listed."""
    if not output.choices:
        return None
    logprobs = output.choices[0].logprobs
    if logprobs is None or not logprobs.content:
        return None
    first = next((lp for lp in logprobs.content if lp.token.strip()), None)
    if first is None:
        return None
    candidates = {first.token: first.logprob}
    for top in first.top_logprobs or []:
        candidates.setdefault(top.token, top.logprob)
    mass = {"yes": 0.0, "no": 0.0}
    for token, logprob in candidates.items():
        word = _word(token)
        if word in mass:
            mass[word] += math.exp(logprob)
    total = mass["yes"] + mass["no"]
    return mass["yes"] / total if total > 0 else None


def from_first_word(text: str) -> float | None:
    """1.0 for an answer starting with "yes", 0.0 for "no" (markdown, quotes and case ignored); else None."""
    match = _FIRST_WORD.match(_LEADING_NOISE.sub("", text))
    if match is None:
        return None
    return {"yes": 1.0, "no": 0.0}.get(match.group(0).lower())


def p_yes(output: ModelOutput) -> PYes | None:
    """P(yes) of a grader's reply: logprobs first, then the first word; None if the reply is unparseable."""
    text = output.completion
    p = from_logprobs(output)
    if p is not None:
        return PYes(p, "logprobs", text)
    p = from_first_word(text)
    return None if p is None else PYes(p, "first_word", text)
