"""HealthBench meta-eval: the model under test is the grader; its verdicts are compared with physicians'.

Reference agreement (pairwise): each grader label against every physician label on its row. For each class
(pos / neg), precision = agreement over the pairs where the grader said that class, recall = agreement over
the pairs where the physician said it; F1 per class; macro-F1 = their mean (`pairwise_model_f1_balanced`),
overall and per category. Physician baseline: each physician against the others on the same rows (leave one
out), macro-F1 per physician, reported as the mean over physicians. Side by side: macro-F1 against the
physicians' majority label (`sum > n / 2`), as inspect_evals reports it.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import CachePolicy, ChatMessageUser, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from medarc_inspect.data import DataError
from medarc_inspect.healthbench.dataset import DataFile, _fail, check_meta_row, read_rows, to_messages
from medarc_inspect.healthbench.grader import UNBOUNDED, conversation_text, fill, parse_verdict
from medarc_inspect.healthbench.scoring import per_epoch
from medarc_inspect.judging import JudgeParseError

LABEL = "grader_label"
FAILED = "grader_failures"


def meta_samples(file: DataFile, template: str, num_examples: int | None = None) -> MemoryDataset:
    """One sample per validated row: the grader prompt (raw rubric text, no points prefix) as the input."""
    samples = []
    for number, raw in read_rows(file.path):
        try:
            row = check_meta_row(raw)
        except ValueError as error:
            raise _fail(file.path, number, str(error)) from None
        convo = conversation_text(to_messages(row["prompt"]), row["completion"])
        samples.append(
            Sample(
                id=f"{row['prompt_id']}:{row['completion_id']}:{number}",
                input=[ChatMessageUser(content=fill(template, convo, row["rubric"]))],
                metadata={
                    "binary_labels": row["binary_labels"],
                    "physician_ids": row["anonymized_physician_ids"],
                    "category": row["category"],
                    "prompt_id": row["prompt_id"],
                    "completion_id": row["completion_id"],
                },
            )
        )
    if not samples:
        raise DataError(f"{file.path} holds no rows")
    if num_examples is not None and num_examples < len(samples):
        samples = random.Random(0).sample(samples, num_examples)
    return MemoryDataset(samples, name="healthbench_meta_eval")


@solver
def verdict_generate(max_retries: int | None = 4, cache: bool | str = False) -> Solver:
    """Generate a verdict; re-ask (re-sampled, a fresh cache scope per attempt) while it does not parse."""
    retries = UNBOUNDED if max_retries is None else max_retries

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        model = get_model()
        replies: list[str] = []
        for attempt in range(retries + 1):
            policy = CachePolicy(expiry="1W" if cache is True else str(cache), scopes={"attempt": str(attempt)})
            state.output = await model.generate(state.messages, cache=policy if cache else False)
            replies.append(state.output.completion)
            try:
                state.store.set("verdict", parse_verdict(state.output.completion))
                break
            except JudgeParseError as error:
                state.store.set("verdict_error", str(error))
        state.store.set("replies", replies)
        state.messages.append(state.output.message)
        return state

    return solve


@scorer(metrics=[])
def meta_eval_scorer() -> Scorer:
    """The model's verdict as 1 / 0, or NaN (counted in grader_failures) when none parsed."""

    async def score(state: TaskState, target: Target) -> Score:
        verdict = state.store.get("verdict")
        if verdict is None:
            value = {LABEL: math.nan, FAILED: 1.0}
        else:
            value = {LABEL: float(verdict["criteria_met"]), FAILED: 0.0}
        return Score(
            value=value,
            answer=state.output.completion,
            explanation=(verdict or {}).get("explanation") or state.store.get("verdict_error", ""),
            metadata={"replies": state.store.get("replies", [])},
        )

    return score


# --- agreement -------------------------------------------------------------------------------------------
def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    if precision == 0 and recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def pairwise_macro_f1(own: Sequence[bool], others: Sequence[Sequence[bool]]) -> float | None:
    """The reference's balanced F1 of one rater (`own` labels) against the other labels on the same rows."""
    agree: dict[str, list[bool]] = defaultdict(list)
    for label, other_labels in zip(own, others, strict=True):
        for other in other_labels:
            agree[f"precision_{'pos' if label else 'neg'}"].append(label == other)
            agree[f"recall_{'pos' if other else 'neg'}"].append(label == other)
    rate = {k: (sum(v) / len(v) if v else None) for k, v in agree.items()}
    f1 = [_f1(rate.get(f"precision_{c}"), rate.get(f"recall_{c}")) for c in ("pos", "neg")]
    return None if None in f1 else (f1[0] + f1[1]) / 2  # type: ignore[operator]


def majority_macro_f1(own: Sequence[bool], labels: Sequence[Sequence[bool]]) -> float | None:
    """Macro-F1 against the physicians' majority label (`sum > n / 2`), as inspect_evals computes it."""
    truth = [sum(row) > len(row) / 2 for row in labels]
    scores = []
    for cls in (True, False):
        tp = sum(p == cls and t == cls for p, t in zip(own, truth, strict=True))
        fp = sum(p == cls and t != cls for p, t in zip(own, truth, strict=True))
        fn = sum(p != cls and t == cls for p, t in zip(own, truth, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / 2 if own else None


def physician_macro_f1(rows: Sequence[dict[str, Any]]) -> float | None:
    """Mean over physicians of each one's leave-one-out balanced F1 (physicians with a defined value)."""
    per: dict[str, tuple[list[bool], list[list[bool]]]] = defaultdict(lambda: ([], []))
    for row in rows:
        labels, ids = row["binary_labels"], row["physician_ids"]
        for i, physician in enumerate(ids):
            per[physician][0].append(labels[i])
            per[physician][1].append(labels[:i] + labels[i + 1 :])
    values = [v for own, others in per.values() if (v := pairwise_macro_f1(own, others)) is not None]
    return sum(values) / len(values) if values else None


def agreement(rows: Sequence[dict[str, Any]], labels: Sequence[bool | None]) -> dict[str, float]:
    """Every agreement figure, overall and per category (keys `<category>:macro_f1` etc.).

    `labels[i]` is the model's verdict on `rows[i]`, None where it gave none: such a row is left out of the
    model's figures (and of `n_samples`) but, as in the reference, still counts for the physicians' baseline.
    """
    result: dict[str, float] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        groups[row["category"]].append(index)
    for prefix, indices in [("", list(range(len(rows)))), *((f"{c}:", i) for c, i in sorted(groups.items()))]:
        judged = [i for i in indices if labels[i] is not None]
        own = [bool(labels[i]) for i in judged]
        truth = [rows[i]["binary_labels"] for i in judged]
        figures = {
            "macro_f1": pairwise_macro_f1(own, truth),
            "macro_f1_majority": majority_macro_f1(own, truth),
            "physician_macro_f1": physician_macro_f1([rows[i] for i in indices]),
        }
        result.update({f"{prefix}{k}": v for k, v in figures.items() if v is not None})
        if not prefix:
            result["n_samples"] = float(len(judged))
    return result


@metric
def meta_eval_metrics() -> Metric:
    """Pairwise macro-F1 (reference), majority macro-F1 (inspect_evals), physician baseline, per category."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        rows: list[dict[str, Any]] = []
        labels: list[bool | None] = []
        for sample_score, value in per_epoch(scores):
            label = value.get(LABEL, math.nan)
            rows.append(sample_score.sample_metadata or {})
            labels.append(None if math.isnan(label) else bool(label))
        return agreement(rows, labels) if rows else {"n_samples": 0.0}

    return compute


@metric
def meta_grader_failures() -> Metric:
    """Rows where the model gave no valid verdict after every re-ask (left out of the agreement)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(value.get(FAILED, 0) for _, value in per_epoch(scores)))

    return compute
