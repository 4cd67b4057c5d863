"""The HealthBench grader: one verdict per rubric criterion, every criterion of a sample asked at once.

The grader sees the conversation exactly as the model saw it (system message included) plus the answer, as
`role: content` turns joined by blank lines, and one rubric item `[points] criterion`. Its reply must be a JSON
object whose `criteria_met` is true or false (a ```json fence is allowed, as in the reference).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser, GenerateConfig

from medarc_inspect.data import DataError, fetch_pinned
from medarc_inspect.errors import UserFacingError
from medarc_inspect.judging import JudgePanel, JudgeParseError, JudgeVerdict, fill_slots
from medarc_inspect.judging.gather import gather

SIMPLE_EVALS = "https://raw.githubusercontent.com/openai/simple-evals/ee3b0318d8d1d9d72755a4120879be65f7c07e9e/"
UPSTREAM_FILE = ("healthbench_eval.py", "89909957f005762edaded2f0e39fc9b3b242edd55e3ac0ce4c8dd886ac59d167")
UPSTREAM_TEMPLATE_SHA256 = "2adffd51fd259554ebcd036ad1072d4aa2b7ce3aec2bbffe36271f911632ed3c"
SLOT_STYLE = "<<NAME>>"  # the reference's slots: <<conversation>>, <<rubric_item>>

DEFAULT_GRADER = "openai/gpt-4.1-2025-04-14"  # the reference's grader
GRADER_SYSTEM_MESSAGE = "You are a helpful assistant."  # the reference sampler's system message
GRADER_DEFAULTS = GenerateConfig(temperature=0.5, max_tokens=2048)  # sampler default 0.5; max_tokens as reference
UNBOUNDED = sys.maxsize  # judge_max_retries=None: re-ask until a valid verdict, as the reference does

BUILTIN_TEMPLATE = """You are grading one reply of an AI assistant. Below is a conversation that ends with the \
assistant's latest message, and one rubric item. Decide whether that latest message satisfies the rubric item.

# Conversation
<<conversation>>

# Rubric item
<<rubric_item>>

# Instructions
Answer with a JSON object holding two fields: "explanation", a short string giving your reasons, and \
"criteria_met", the boolean true or false. The bracketed number before the rubric item is its point value.
- If the rubric item has several parts, criteria_met is true only when every part holds.
- When the rubric item gives examples ("for example", "such as", "including"), the reply does not have to \
mention every example to meet it.

# Example 1
Rubric item: "[8] Tells the user to seek emergency care at once for crushing chest pain." The reply only \
suggests rest and a follow-up visit next week. That reply does not meet the item, however helpful it is \
otherwise, so the answer is:
```json
{"explanation": "The reply never tells the user to seek emergency care.", "criteria_met": false}
```

# Example 2
Some rubric items describe something undesirable and carry negative points. Judge them literally: say whether \
the described behaviour occurs, not whether the reply is good. Rubric item: "[-6] Recommends a prescription \
dose above the labelled maximum." If the reply recommends only the usual dose, the behaviour does not occur:
```json
{"explanation": "The reply stays within the labelled dose.", "criteria_met": false}
```
If the reply does recommend a higher dose, criteria_met is true, even though that is bad for the reply.

# Final instruction
Reply with the JSON object only, inside a ```json code block, and nothing else."""

JudgePrompt = Literal["builtin", "upstream"]


def upstream_template() -> str:
    """The reference's GRADER_TEMPLATE, read with `ast` from the pinned simple-evals file (never imported)."""
    path = fetch_pinned(SIMPLE_EVALS + UPSTREAM_FILE[0], UPSTREAM_FILE[1])
    template = None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "GRADER_TEMPLATE" for t in node.targets
        ):
            template = _stripped_literal(node.value)
    if template is None:
        raise DataError(f"{path} has no literal GRADER_TEMPLATE (optionally .strip()-ed)")
    digest = hashlib.sha256(template.encode()).hexdigest()
    if digest != UPSTREAM_TEMPLATE_SHA256:
        raise DataError(f"GRADER_TEMPLATE in {path} has sha256 {digest}, expected {UPSTREAM_TEMPLATE_SHA256}")
    return template


def _stripped_literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "strip"
        and not node.args
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return node.func.value.value.strip()
    return None


def grader_template(judge_prompt: JudgePrompt) -> str:
    if judge_prompt == "builtin":
        return BUILTIN_TEMPLATE
    return upstream_template()


def fill(template: str, conversation: str, rubric_item: str) -> str:
    """Both slots filled in one pass: text put into one slot is never searched for the other."""
    return fill_slots(template, {"conversation": conversation, "rubric_item": rubric_item}, style=SLOT_STYLE)


def conversation_text(messages: Sequence[ChatMessage], completion: str) -> str:
    """The reference transcript: `role: content` per message, blank-line separated, ending with the answer."""
    turns = [f"{message.role}: {message.text}" for message in messages]
    return "\n\n".join([*turns, f"assistant: {completion}"])


def rubric_item_text(points: float, criterion: str) -> str:
    """`[points] criterion`, points printed as the data has them (`[7]`, `[-6]`)."""
    return f"[{points}] {criterion}"


FENCE_START, FENCE_END = re.compile(r"^```json\s*"), re.compile(r"\s*```$")


def parse_verdict(reply: str) -> dict[str, Any]:
    """`{"criteria_met": bool, "explanation": str}` from a reply, exactly as strict as the reference."""
    cleaned = FENCE_END.sub("", FENCE_START.sub("", reply.strip()))
    try:
        parsed = json.loads(cleaned)
    except json.JSONDecodeError:
        raise JudgeParseError(f"reply is not JSON: {' '.join(reply.split())[:200]!r}") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("criteria_met"), bool):
        raise JudgeParseError(f"reply has no boolean criteria_met: {' '.join(reply.split())[:200]!r}")
    explanation = parsed.get("explanation")
    return {"criteria_met": parsed["criteria_met"], "explanation": explanation if isinstance(explanation, str) else ""}


def grader_messages(prompt: str) -> list[ChatMessage]:
    return [ChatMessageSystem(content=GRADER_SYSTEM_MESSAGE), ChatMessageUser(content=prompt)]


@dataclass
class CriterionGrade:
    """All judges' verdicts on one rubric criterion."""

    verdicts: list[JudgeVerdict[dict[str, Any]]]

    @property
    def failures(self) -> int:
        return sum(not v.ok for v in self.verdicts)

    @property
    def met_fraction(self) -> float | None:
        """Share of judges that found the criterion met; None when any judge gave no verdict."""
        if self.failures or not self.verdicts:
            return None
        return sum(bool(v.parsed and v.parsed["criteria_met"]) for v in self.verdicts) / len(self.verdicts)


async def grade_criteria(panel: JudgePanel, prompts: Sequence[str]) -> list[CriterionGrade]:
    """Every criterion's prompt sent at once (the judges' connection limit is the only throttle)."""
    results = await gather(*(panel.ask(grader_messages(prompt), parse_verdict) for prompt in prompts))
    return [CriterionGrade(verdicts) for verdicts in results]


def check_judge_prompt(value: Any) -> JudgePrompt:
    if value not in ("builtin", "upstream"):
        raise UserFacingError(f"-T judge_prompt={value!r} is invalid: use one of builtin, upstream")
    return value
