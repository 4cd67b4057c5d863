"""MTSamples' format: a JSON object of criteria, each `{"score": 1-5, "explanation": ...}`."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

CRITERION_PATTERN = re.compile(r'"(\w+)"\s*:\s*\{\s*"score"')


def reply(prompt: str) -> str:
    """A valid verdict for every criterion named in `prompt`, scored 1-5 from a hash of the prompt."""
    criteria = list(dict.fromkeys(CRITERION_PATTERN.findall(prompt)))
    verdict: dict[str, Any] = {}
    for name in criteria:
        digest = hashlib.sha256(f"{name}\x00{prompt}".encode()).digest()
        verdict[name] = {"score": 1 + digest[0] % 5, "explanation": f"scripted rating of {name}"}
    return json.dumps(verdict)
