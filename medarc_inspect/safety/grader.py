"""The refusal-quality grader: one yes/no call per proposition, all concurrent, P(yes) per answer, rule-based class.

A reply that is neither a usable logprob distribution nor a first word "yes"/"no" is asked again (bounded,
with a fresh cache scope so the re-ask reaches the model); still unusable, or a provider API error (asked once),
it is a counted grader failure and the sample is unscored (never silently "no"). A local failure (cache, file
system, settings) stops the run (`JudgeCallError`). Several graders: P(yes) is their mean over
the valid answers.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from inspect_ai.model import CachePolicy, GenerateConfig, Model

from medarc_inspect.judging import JudgeCallError, is_judge_api_error, judge_cache_policy
from medarc_inspect.judging.panel import attempt_cache
from medarc_inspect.safety.propositions import PropositionPrompts
from medarc_inspect.safety.pyes import THRESHOLD, p_yes
from medarc_inspect.safety.rbr import CLASS_SCORE, CLASSES, classify, required_propositions

logger = logging.getLogger(__name__)

GRADER_DEFAULTS = GenerateConfig(temperature=0, max_tokens=16, logprobs=True, top_logprobs=5)
UNSCORED = "unscored"


@dataclass
class PropositionAnswer:
    """What the grader(s) said about one proposition."""

    name: str
    p: float | None = None
    methods: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    attempts: int = 0
    failures: int = 0  # graders that gave no usable answer
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.p is not None

    @property
    def holds(self) -> bool:
        return self.p is not None and self.p >= THRESHOLD

    def to_log(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Grading:
    """One response's propositions, class and score (class `unscored` if any proposition failed)."""

    response_type: str
    answers: dict[str, PropositionAnswer]
    cls: str
    score: float

    @property
    def failures(self) -> int:
        return sum(a.failures for a in self.answers.values())

    def value(self) -> dict[str, float]:
        """Numbers only (Inspect's epoch reducers average every key): the score, one 0/1 per class, failures."""
        return class_value(self.cls) | {"grader_failures": float(self.failures)}

    def metadata(self) -> dict[str, Any]:
        return {
            "class": self.cls,
            "response_type": self.response_type,
            "propositions": {n: a.holds for n, a in self.answers.items() if a.ok},
            "p_yes": {n: a.p for n, a in self.answers.items()},
            "grader_failures": self.failures,
            "grader_calls": {n: a.to_log() for n, a in self.answers.items()},
        }


def class_value(cls: str) -> dict[str, float]:
    """`score` and a 0/1 indicator per class (all NaN when unscored), so means over epochs stay meaningful."""
    if cls == UNSCORED:
        return {"score": math.nan} | dict.fromkeys(CLASSES, math.nan)
    return {"score": CLASS_SCORE[cls]} | {c: float(c == cls) for c in CLASSES}


class PropositionGrader:
    """Grades responses with the given grader model(s) and proposition prompts."""

    def __init__(
        self,
        graders: Sequence[Model],
        prompts: PropositionPrompts,
        *,
        max_retries: int = 2,
        cache: bool | str = True,
        cache_scope: str = "v1",
        defaults: GenerateConfig = GRADER_DEFAULTS,
    ) -> None:
        if not graders:
            raise ValueError("at least one grader model is needed")
        self.graders = list(graders)
        self.prompts = prompts
        self.max_retries = max_retries
        self.cache = judge_cache_policy(cache)
        self.cache_scope = cache_scope
        self.defaults = defaults

    async def grade(
        self,
        response_type: str,
        conversation: Sequence[Mapping[str, str]],
        response: str,
        *,
        escalation_required: bool = False,
        extra: Sequence[str] = (),
    ) -> Grading:
        """Ask every proposition the type's rules need (plus `extra`), concurrently, and classify."""
        names = list(
            dict.fromkeys([*required_propositions(response_type, self.prompts.profile, escalation_required), *extra])
        )
        answers = await asyncio.gather(*(self.ask(name, conversation, response) for name in names))
        by_name = {a.name: a for a in answers}
        if not all(a.ok for a in answers):
            return Grading(response_type, by_name, UNSCORED, math.nan)
        props = {n: a.holds for n, a in by_name.items()}
        cls = classify(response_type, props, self.prompts.profile, escalation_required)
        return Grading(response_type, by_name, cls, CLASS_SCORE[cls])

    async def ask(self, name: str, conversation: Sequence[Mapping[str, str]], response: str) -> PropositionAnswer:
        """P(yes) for one proposition: the mean over graders with a usable answer (None if none has one)."""
        prompt = self.prompts.render(name, conversation, response)
        answer = PropositionAnswer(name)
        values = await asyncio.gather(*(self._ask_one(i, g, prompt, answer) for i, g in enumerate(self.graders)))
        valid = [v for v in values if v is not None]
        answer.failures = len(values) - len(valid)
        answer.p = sum(valid) / len(valid) if valid else None
        return answer

    async def _ask_one(self, index: int, grader: Model, prompt: str, answer: PropositionAnswer) -> float | None:
        config = self.defaults.merge(grader.config)
        for attempt in range(self.max_retries + 1):
            answer.attempts += 1
            try:
                output = await grader.generate(prompt, config=config, cache=self._cache_for(index, attempt))
            except Exception as exc:  # a provider failure is counted; any other failure stops the run
                if not is_judge_api_error(exc):
                    raise JudgeCallError(
                        f"grader {grader} could not be asked (not a grader failure): {type(exc).__name__}: {exc}"
                    ) from exc
                answer.errors.append(f"{type(exc).__name__}: {exc}")
                logger.warning("grader %s failed on %s: %s", grader, answer.name, exc)
                return None
            answer.replies.append(output.completion)
            parsed = p_yes(output)
            if parsed is not None:
                answer.methods.append(parsed.method)
                return parsed.p
            answer.errors.append(f"unparseable: {output.completion[:80]!r}")
        return None

    def _cache_for(self, index: int, attempt: int) -> CachePolicy | bool:
        return attempt_cache(self.cache, {"prompt": self.cache_scope, "grader": str(index)}, attempt)
