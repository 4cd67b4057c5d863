"""Spec-reasoning conditions (safety-components §3) and the final-answer extraction they need.

- `baseline` (C0): the model sees the request only.
- `spec` (C1): the medical spec in the system message, no deliberation.
- `deliberate` (C2): the spec plus an instruction to analyse the request against it, cite principles, decide,
  and answer in an "Analysis" then a "Final answer" section.
- `oracle_spec` (C3): C2 with only the sample's own principle in detail (an upper bound that uses the label;
  never a headline number). Needs `category` (1-9) in the sample metadata.

C4 (a reasoning-effort sweep) is not a condition: combine `deliberate` with Inspect's `--reasoning-effort`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from inspect_ai.solver import Generate, Solver, TaskState, solver

from medarc_inspect.errors import UserFacingError
from medarc_inspect.prompting import add_system_text
from medarc_inspect.safety.spec import deliberative_spec, medical_spec

Condition = Literal["baseline", "spec", "deliberate", "oracle_spec"]
CONDITIONS: tuple[str, ...] = ("baseline", "spec", "deliberate", "oracle_spec")
DELIBERATIVE: frozenset[str] = frozenset({"deliberate", "oracle_spec"})

# A "Final answer" heading line: optional markdown heading marks or bold/italic, optional colon. Text may follow
# on the same line only after a colon ("**Final answer:** I can't help with that.").
_FINAL_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:[*_]{1,2}[ \t]*)?final[ \t]+answer[ \t]*(?P<c1>:)?[ \t]*(?:[*_]{1,2})?"
    r"[ \t]*(?P<c2>:)?[ \t]*(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class FinalAnswer:
    """A deliberative reply split at its last "Final answer" heading.

    `found` False means there was no heading: `answer` is then the whole text (so leaked analysis is judged) and
    `analysis` is the whole text too (citations are looked for everywhere).
    """

    answer: str
    analysis: str
    found: bool


def extract_final_answer(text: str) -> FinalAnswer:
    """The text after the last "Final answer" heading line (case-insensitive; `#`, bold, colon allowed)."""
    last = None
    for match in _FINAL_HEADING.finditer(text):
        if match["rest"].strip() and not (match["c1"] or match["c2"]):
            continue  # a sentence that starts with "Final answer", not a heading
        last = match
    if last is None:
        return FinalAnswer(answer=text.strip(), analysis=text, found=False)
    answer = (last["rest"] + text[last.end() :]).strip()
    return FinalAnswer(answer=answer, analysis=text[: last.start()], found=True)


def check_condition(condition: str) -> str:
    """`condition`, if it is one of CONDITIONS."""
    if condition not in CONDITIONS:
        raise UserFacingError(f"-T condition={condition!r} is invalid: use one of {', '.join(CONDITIONS)}")
    return condition


def condition_system_text(condition: str, category: int | None = None) -> str | None:
    """What `condition` puts in the system message (None for baseline); `oracle_spec` needs the category."""
    check_condition(condition)
    if condition == "baseline":
        return None
    if condition == "spec":
        return medical_spec()
    if condition == "deliberate":
        return deliberative_spec()
    if category is None:
        raise UserFacingError("condition=oracle_spec needs each sample's principle (metadata 'category', 1-9)")
    return deliberative_spec(focus=category)


@solver
def spec_condition(condition: str = "baseline") -> Solver:
    """Add the condition's spec (and deliberation instruction) to the system message; baseline adds nothing.

    Goes after any system prompt solver, so the spec follows the system prompt in the same system message.
    The user message (the request) is left untouched, so judges can be shown the original conversation.
    """
    check_condition(condition)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        category = state.metadata.get("category") if condition == "oracle_spec" else None
        text = condition_system_text(condition, category)
        if text is not None:
            add_system_text(state, text)
        return state

    return solve
