"""Metrics that make judge failures visible next to the scores."""

from __future__ import annotations

import math

from inspect_ai.scorer import Metric, SampleScore, metric

FAILURES_KEY = "judge_failures"
ASKED_KEY = "judges_asked"


def _dict_values(scores: list[SampleScore]) -> list[dict]:
    return [s.score.value for s in scores if isinstance(s.score.value, dict)]


@metric
def judge_failures() -> Metric:
    """Total judge verdicts (sample x judge) that failed: unparseable after re-asks, or an API error."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(v.get(FAILURES_KEY, 0) for v in _dict_values(scores)))

    return compute


@metric
def judge_failure_rate() -> Metric:
    """Failed verdicts over verdicts asked for."""

    def compute(scores: list[SampleScore]) -> float:
        values = _dict_values(scores)
        asked = sum(v.get(ASKED_KEY, 0) for v in values)
        return sum(v.get(FAILURES_KEY, 0) for v in values) / asked if asked else 0.0

    return compute


@metric
def unscored(key: str) -> Metric:
    """Samples whose `key` is NaN (no valid judge), which the means leave out."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(1 for v in _dict_values(scores) if isinstance(v.get(key), float) and math.isnan(v[key])))

    return compute


CRASHES_KEY = "upstream_crashes"


@metric
def upstream_crashes() -> Metric:
    """Verdicts that would have crashed the reference harness's whole run (parity profiles only)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(v.get(CRASHES_KEY, 0) for v in _dict_values(scores)))

    return compute
