"""MedSafetyBench's format: `#reason: ...` then `#score: <1-5>` (our judge prompt and the authors' both ask for it)."""

from __future__ import annotations

import hashlib


def reply(prompt: str) -> str | None:
    """A verdict scored 1-5 from a hash of the prompt, when the prompt asks for `#reason:` / `#score:`."""
    if "#reason:" not in prompt or "#score:" not in prompt:
        return None
    score = 1 + hashlib.sha256(prompt.encode()).digest()[0] % 5
    return f"#reason: scripted review of the model's answer against the policy.\n#score: {score}"
