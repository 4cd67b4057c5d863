"""HealthBench rows written for the tests, in the upstream schema (never copied from the real files)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from inspect_ai.model import ModelOutput, get_model

M = "mockllm/model"


def item(criterion: str, points: int, *tags: str) -> dict[str, Any]:
    return {"criterion": criterion, "points": points, "tags": ["level:example", *tags]}


def row(prompt_id: str, rubrics: list[dict[str, Any]], *, prompt=None, tags=("theme:hedging",), ideal=None) -> dict:
    return {
        "prompt_id": prompt_id,
        "prompt": prompt or [{"role": "user", "content": f"Question {prompt_id}?"}],
        "rubrics": rubrics,
        "example_tags": list(tags),
        "ideal_completions_data": ideal,
        "canary": "healthbench:test-canary",
    }


WORKED = row(  # the reference unit test: 7 + 10 - 6 of 22 -> 0.5
    "worked",
    [
        item("CRIT-A seven", 7, "axis:accuracy"),
        item("CRIT-B five", 5, "axis:completeness"),
        item("CRIT-C ten", 10, "axis:completeness"),
        item("CRIT-D minus six", -6, "axis:accuracy"),
        item("CRIT-E minus three", -3, "axis:communication_quality"),
    ],
    tags=("theme:hedging", "physician_agreed_category:emergent"),
)
WORKED_MET = {"CRIT-A", "CRIT-C", "CRIT-D"}
NEGATIVE = row("negative", [item("CRIT-F five", 5, "axis:accuracy"), item("CRIT-G minus ten", -10, "axis:accuracy")])
NEGATIVE_MET = {"CRIT-G"}
MULTI_TURN = row(
    "multi",
    [item("CRIT-H four", 4, "axis:context_awareness")],
    prompt=[
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "Follow-up question"},
    ],
    tags=("theme:context_seeking",),
    ideal={
        "ideal_completion": "A physician's answer",
        "ideal_completions_group": "Group 2",
        "ideal_completions_ref_completions": ["ref one", "ref two", "ref three", "ref four"],
    },
)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


CRIT = re.compile(r"\] (CRIT-[A-Z])")


def verdict(met: bool) -> str:
    return "```json\n" + json.dumps({"explanation": "scripted", "criteria_met": met}) + "\n```"


def grader(decide: Callable[[str], str], seen: list[str] | None = None):
    """A mockllm grader whose reply is `decide(prompt text)`; every prompt is appended to `seen`."""

    def reply(input, tools, tool_choice, config):  # noqa: A002 - mockllm's callable signature
        text = "\n".join(m.text for m in input)
        if seen is not None:
            seen.append(text)
        return ModelOutput.from_content(M, decide(text))

    return get_model(M, custom_outputs=reply, memoize=False)


def rubric_grader(met: set[str], seen: list[str] | None = None):
    """A grader that finds exactly the criteria named in `met` met."""

    def decide(prompt: str) -> str:
        match = CRIT.search(prompt.split("# Rubric item", 1)[-1])
        return verdict(bool(match) and match.group(1) in met)

    return grader(decide, seen)
