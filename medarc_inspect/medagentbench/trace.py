"""What a grader sees of a run: the final answer text, the POSTs in call order, and whether any POST appeared."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Trace:
    """`result`: the answer text (v2 `json.dumps(finish value)`, v1 the text inside `FINISH(...)`); None when
    the run ended without a valid answer. `posts`: (url, payload) of the POSTs, in order. `has_post`: any
    POST attempt (v1: `POST` anywhere in the agent's text; v2: any create tool call)."""

    result: str | None
    posts: list[tuple[str, Any]] = field(default_factory=list)
    has_post: bool = False


def loads_result(trace: Trace) -> Any:
    """`json.loads` of the answer; raises (a fail) when there is none or it is not JSON."""
    if trace.result is None:
        raise ValueError("no answer")
    return json.loads(trace.result)


def subject_ref(mrn: str) -> dict:
    return {"reference": f"Patient/{mrn}"}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
