"""HealthBench scores, as the reference computes them.

Per sample: `achieved / total` where total sums the positive points and achieved sums the points of met items
(negatives included); not clipped. Example tags take the overall score; each rubric tag (`axis:*`, `level:*`,
`cluster:*`) is scored over its own items, and left out when those items have no positive points.
Aggregate per name: mean clipped to [0, 1], n, and the std of 1,000 bootstrap clipped means (seeded here).
With several judges an item counts `points x (share of judges that found it met)`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from inspect_ai.scorer import Metric, SampleScore, Score, ScoreReducer, mean_score, metric, score_reducer

OVERALL = "overall_score"
LENGTH_ADJUSTED = "length_adjusted_score"
FAILURES = "grader_failures"
CALLS = "grader_calls"
RESPONSE_CHARS = "response_chars"
BOOTSTRAP_SAMPLES = 1000
LENGTH_CENTRE = 2000  # characters (MedARC)
LENGTH_UNIT = 500  # the penalty is per this many characters
LENGTH_PENALTY = {"full": 0.0299, "hard": 0.0392, "consensus": 0.0020}  # MedARC's defaults (unverified)
COUNT_KEYS = (FAILURES, CALLS, RESPONSE_CHARS)
EPOCH_VALUES = "epoch_values"  # Score.metadata key: every epoch's value, kept by the epochs reducer


def calculate_score(points: Sequence[float], met: Sequence[float]) -> float | None:
    """achieved / total positive points; None when no item has positive points. `met` may be a judge share."""
    total = sum(p for p in points if p > 0)
    if total == 0:
        return None
    return sum(p * m for p, m in zip(points, met, strict=True)) / total


def tag_keys(rubrics: Sequence[dict[str, Any]], example_tags: Sequence[str]) -> list[str]:
    """The names a sample is scored under: overall, its example tags, and rubric tags with positive points."""
    positive: dict[str, bool] = {}
    for item in rubrics:
        for tag in item["tags"]:
            positive[tag] = positive.get(tag, False) or item["points"] > 0
    return [OVERALL, *example_tags, *(tag for tag, pos in positive.items() if pos and tag not in example_tags)]


def sample_scores(
    rubrics: Sequence[dict[str, Any]], met: Sequence[float], example_tags: Sequence[str]
) -> dict[str, float]:
    """Overall score, each example tag (= overall) and each rubric tag's own score."""
    points = [item["points"] for item in rubrics]
    overall = calculate_score(points, met)
    if overall is None:
        raise ValueError("no rubric item has positive points")
    scores = {OVERALL: overall} | dict.fromkeys(example_tags, overall)
    by_tag: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for item, m in zip(rubrics, met, strict=True):
        for tag in item["tags"]:
            by_tag[tag].append((item["points"], m))
    for tag, pairs in by_tag.items():
        score = calculate_score([p for p, _ in pairs], [m for _, m in pairs])
        if score is not None:  # a rubric tag's own score wins over an example tag of the same name, as upstream
            scores[tag] = score
    return scores


def length_adjusted(score: float, response_chars: int, penalty: float) -> float:
    """MedARC's length-adjusted score: clip(score - penalty x (chars - 2000) / 500, 0, 1)."""
    return min(1.0, max(0.0, score - penalty * (response_chars - LENGTH_CENTRE) / LENGTH_UNIT))


def clipped_mean(values: np.ndarray) -> float:
    return float(np.clip(values.mean(), 0.0, 1.0))


def bootstrap_std(values: np.ndarray, samples: int, seed: int) -> float:
    """Std (ddof 0) of the clipped means of `samples` same-size resamples with replacement."""
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // max(1, len(values)))  # bound memory: at most ~2M draws at once
    means: list[np.ndarray] = []
    for start in range(0, samples, chunk):
        draws = rng.integers(0, len(values), size=(min(chunk, samples - start), len(values)))
        means.append(np.clip(values[draws].mean(axis=1), 0.0, 1.0))
    return float(np.concatenate(means).std())


def summarise(
    per_sample: Sequence[dict[str, float]], *, bootstrap_samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> dict[str, float]:
    """Reference aggregation over scored samples: `score` (headline) plus `<name>`, `:n_samples`, `:bootstrap_std`."""
    values: dict[str, list[float]] = defaultdict(list)
    for scores in per_sample:
        overall = scores.get(OVERALL)
        if not isinstance(overall, int | float) or math.isnan(overall):
            continue
        for key, value in scores.items():
            if key in COUNT_KEYS or not isinstance(value, int | float) or math.isnan(value):
                continue
            values["score" if key == OVERALL else key].append(float(value))
    result: dict[str, float] = {}
    for key in sorted(values, key=lambda k: (k != "score", k != LENGTH_ADJUSTED, k)):
        array = np.asarray(values[key], dtype=float)
        if key == LENGTH_ADJUSTED:
            result[key] = float(array.mean())  # already clipped per sample
            continue
        result[key] = clipped_mean(array)
        result[f"{key}:n_samples"] = float(len(array))
        result[f"{key}:bootstrap_std"] = bootstrap_std(array, bootstrap_samples, seed)
    return result


@score_reducer(name="healthbench_epochs")
def healthbench_epochs() -> ScoreReducer:
    """Epochs as the reference's `n_repeats`: each epoch stays one example for the metrics (its value is kept
    in the metadata), so counts add up and n counts repeats; the value shown per sample is Inspect's mean."""
    mean = mean_score()

    def reduce(scores: list[Score]) -> Score:
        reduced = mean(scores)
        values = [score.value for score in scores if isinstance(score.value, dict)]
        reduced.metadata = (reduced.metadata or {}) | {EPOCH_VALUES: values}
        return reduced

    return reduce


def per_epoch(scores: list[SampleScore]) -> Iterator[tuple[SampleScore, dict[str, Any]]]:
    """(sample score, value) for every epoch of every sample: the epochs reducer's kept values when there, else
    the (reduced) value itself, e.g. under another `--epochs-reducer`."""
    for sample_score in scores:
        kept = (sample_score.score.metadata or {}).get(EPOCH_VALUES)
        values = kept if isinstance(kept, list) else [sample_score.score.value]
        for value in values:
            if isinstance(value, dict):
                yield sample_score, value


def _dicts(scores: list[SampleScore]) -> list[dict[str, Any]]:
    return [value for _, value in per_epoch(scores)]


@metric
def healthbench_metrics(bootstrap_samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> Metric:
    """Clipped means, n and bootstrap std per name (overall as `score`, axes, themes, categories, clusters)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        return summarise(_dicts(scores), bootstrap_samples=bootstrap_samples, seed=seed)

    return compute


@metric
def grader_failures() -> Metric:
    """Rubric criteria x judges without a valid verdict after every re-ask (their samples are unscored)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(v.get(FAILURES, 0) for v in _dicts(scores)))

    return compute


@metric
def grader_calls() -> Metric:
    """Grader requests made (re-asks included)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(v.get(CALLS, 0) for v in _dicts(scores)))

    return compute


@metric
def unscored() -> Metric:
    """Samples left out of every mean because a criterion has no verdict."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(1 for v in _dicts(scores) if math.isnan(v.get(OVERALL, math.nan))))

    return compute
