"""HealthBench's format: one rubric item per prompt, answered `{"explanation": ..., "criteria_met": bool}`."""

from __future__ import annotations

import hashlib
import json

MARKER = '"criteria_met"'


def reply(prompt: str) -> str | None:
    """A fenced JSON verdict, met or not from a hash of the prompt; None for other benchmarks' prompts."""
    if MARKER not in prompt and "criteria_met" not in prompt:
        return None
    met = hashlib.sha256(prompt.encode()).digest()[0] % 2 == 0
    verdict = {"explanation": f"scripted verdict: {'met' if met else 'not met'}", "criteria_met": met}
    return "```json\n" + json.dumps(verdict) + "\n```"
