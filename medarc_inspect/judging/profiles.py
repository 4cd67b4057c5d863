"""Judge profiles: everything that decides a sample's value from its judges, bundled under one name.

A profile says how a reply is parsed, whether an unparseable reply is asked again, whether an empty answer is
judged at all, whether the answer is stripped before the judge sees it, and how the verdicts become the score.
Our own profile is strict; parity profiles reproduce a reference harness end to end (see `judging.upstream`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from medarc_inspect.judging.panel import JudgeVerdict

T = TypeVar("T")


@dataclass(frozen=True)
class JudgeProfile(Generic[T]):
    """How one harness turns judge replies into a sample's score."""

    name: str
    parse: Callable[[str], T]  # raises JudgeParseError (or UpstreamCrash) for an unusable reply
    aggregate: Callable[[list[JudgeVerdict[T]]], dict[str, float]]  # Score.value from the verdicts
    max_retries: int | None = None  # None: the task's judge_max_retries; 0: every judge is asked once
    judge_empty_answer: bool = False  # False: an empty answer gets `aggregate([])`-free minimum, no judge asked
    strip_answer: bool = True  # False: the judge sees the answer with its surrounding whitespace
    summary: str = ""

    def retries(self, requested: int | None, default: int) -> int:
        """The re-asks this profile makes, given the task's `judge_max_retries` (None = not set)."""
        if self.max_retries is not None:
            return self.max_retries
        return default if requested is None else requested

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for the eval metadata."""
        return {
            "name": self.name,
            "re_asks": self.max_retries,
            "judges_empty_answers": self.judge_empty_answer,
            "strips_answer": self.strip_answer,
            "summary": self.summary,
        }
