"""HealthBench (OpenAI, 2025): open-ended health conversations graded against physician-written rubrics.

Recipe: a (multi-turn) conversation -> the model answers -> a grader model judges every rubric criterion at
once (criteria_met true / false) -> points of met criteria over the positive points. Faithful to
openai/simple-evals @ ee3b0318 (healthbench_eval.py, healthbench_meta_eval.py).

    inspect eval medarc_inspect/healthbench --model openai/gpt-4.1 --model-role grader=openai/gpt-4.1-2025-04-14
    inspect eval medarc_inspect/healthbench -T local_path=rows.jsonl --model mockllm/model \
        --model-role grader=medarc-mock/judge --limit 20
"""

from __future__ import annotations

import math
from typing import Any

from inspect_ai import Epochs, Task, task
from inspect_ai.model import ChatMessage, ModelOutput
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver, system_message

from medarc_inspect import taskargs
from medarc_inspect.errors import UserFacingError
from medarc_inspect.healthbench.dataset import FILES, RunMode, load_examples, resolve_file
from medarc_inspect.healthbench.grader import (
    DEFAULT_GRADER,
    GRADER_DEFAULTS,
    GRADER_SYSTEM_MESSAGE,
    UNBOUNDED,
    CriterionGrade,
    check_judge_prompt,
    conversation_text,
    fill,
    grade_criteria,
    grader_template,
    rubric_item_text,
)
from medarc_inspect.healthbench.meta_eval import (
    meta_eval_metrics,
    meta_eval_scorer,
    meta_grader_failures,
    meta_samples,
    verdict_generate,
)
from medarc_inspect.healthbench.scoring import (
    BOOTSTRAP_SAMPLES,
    CALLS,
    FAILURES,
    LENGTH_ADJUSTED,
    LENGTH_PENALTY,
    OVERALL,
    RESPONSE_CHARS,
    grader_calls,
    grader_failures,
    healthbench_epochs,
    healthbench_metrics,
    length_adjusted,
    sample_scores,
    tag_keys,
    unscored,
)
from medarc_inspect.judging import JudgeSetup, judge_setup

TASK_VERSION = 2  # bump whenever data processing, prompts or scoring change (2: epochs count as repeats)
SUBSETS = ("full", "hard", "consensus")
RUN_MODES = ("model", "physician_completions", "physician_completion_references")
GROUPS = {"physician_completions": (1, 2, 3), "physician_completion_references": (2, 3)}


@solver
def physician_answer() -> Solver:
    """The dataset's physician (or reference) completion stands in for the model's answer; no model call."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content(model="physician", content=state.metadata["completion"])
        return state

    return solve


def seen_messages(state: TaskState) -> list[ChatMessage]:
    """The conversation the model received: every message before its answer (a system message included)."""
    messages = list(state.messages)
    if messages and messages[-1].role == "assistant" and messages[-1].text == state.output.completion:
        messages = messages[:-1]
    return messages


@scorer(metrics=[])
def rubric_grader(template: str, judging: JudgeSetup, length_penalty: float) -> Scorer:
    """Grade every rubric criterion of the answer at once; value = unclipped scores per name (NaN if unscored)."""

    async def score(state: TaskState, target: Target) -> Score:
        rubrics: list[dict[str, Any]] = state.metadata["rubrics"]
        example_tags: list[str] = state.metadata["example_tags"]
        completion = state.output.completion
        convo = conversation_text(seen_messages(state), completion)
        prompts = [fill(template, convo, rubric_item_text(i["points"], i["criterion"])) for i in rubrics]
        grades = await grade_criteria(judging.panel(), prompts)
        result = rubric_score(rubrics, example_tags, grades, completion, length_penalty)
        result.metadata = (result.metadata or {}) | {"judging": judging.metadata()}
        return result

    return score


def rubric_score(
    rubrics: list[dict[str, Any]],
    example_tags: list[str],
    grades: list[CriterionGrade],
    completion: str,
    length_penalty: float,
) -> Score:
    """The Score of one sample from its criteria's grades (unscored when any criterion has no verdict)."""
    failures = sum(g.failures for g in grades)
    calls = sum(v.attempts for g in grades for v in g.verdicts)
    met = [g.met_fraction for g in grades]
    if failures:
        value = dict.fromkeys(tag_keys(rubrics, example_tags), math.nan) | {LENGTH_ADJUSTED: math.nan}
        explanation = f"unscored: {failures} grader verdict(s) missing after every re-ask"
    else:
        value = sample_scores(rubrics, [m or 0.0 for m in met], example_tags)
        value[LENGTH_ADJUSTED] = length_adjusted(value[OVERALL], len(completion), length_penalty)
        explanation = f"{sum(m or 0 for m in met):g} of {len(met)} criteria met; score {value[OVERALL]:.4f}"
    value |= {FAILURES: float(failures), CALLS: float(calls), RESPONSE_CHARS: float(len(completion))}
    criteria = [
        {
            "criterion": item["criterion"],
            "points": item["points"],
            "met": m,
            "verdicts": [_verdict_log(v) for v in grade.verdicts],
        }
        for item, grade, m in zip(rubrics, grades, met, strict=True)
    ]
    return Score(value=value, answer=completion, explanation=explanation, metadata={"criteria": criteria})


def _verdict_log(verdict: Any) -> dict[str, Any]:
    record = {
        "judge": verdict.judge_model,
        "criteria_met": verdict.parsed["criteria_met"] if verdict.parsed else None,
        "explanation": verdict.parsed["explanation"] if verdict.parsed else None,
        "attempts": verdict.attempts,
    }
    if not verdict.ok:
        record |= {"error": verdict.error, "error_kind": verdict.error_kind, "replies": verdict.replies}
    return record


def healthbench_task(
    subset: str,
    local_path: str | None,
    judge_model: Any,
    judge_prompt: Any,
    judge_max_retries: Any,
    judge_cache: Any,
    run_mode: Any,
    physician_group: Any,
    num_examples: Any,
    bootstrap_samples: Any,
    bootstrap_seed: Any,
    length_penalty: Any,
    system_prompt: Any,
) -> Task:
    subset = taskargs.one_of("subset", subset, SUBSETS)
    local_path = taskargs.text("local_path", local_path, optional=True)
    judge_prompt = check_judge_prompt(judge_prompt)
    retries = taskargs.integer("judge_max_retries", judge_max_retries, minimum=0, optional=True)
    mode: RunMode = taskargs.one_of("run_mode", run_mode, RUN_MODES)  # type: ignore[assignment]
    group = taskargs.integer("physician_group", physician_group, minimum=1, maximum=3, optional=True)
    if mode != "model":  # the reference grades one physician group per run
        allowed = ", ".join(map(str, GROUPS[mode][:-1])) + f" or {GROUPS[mode][-1]}"
        if group is None:
            raise UserFacingError(f"-T run_mode={mode} needs -T physician_group={allowed} (one group per run)")
        if group not in GROUPS[mode]:
            raise taskargs.TaskArgError("physician_group", group, f"{mode} has groups {allowed}")
    if mode == "model" and group is not None:
        raise taskargs.TaskArgError("physician_group", group, "only with a physician run_mode")
    limit = taskargs.integer("num_examples", num_examples, minimum=1, optional=True)
    boots = taskargs.integer("bootstrap_samples", bootstrap_samples, minimum=1)
    seed = taskargs.integer("bootstrap_seed", bootstrap_seed, minimum=0)
    penalty = LENGTH_PENALTY[subset] if length_penalty is None else taskargs.number("length_penalty", length_penalty)
    system_prompt = taskargs.text("system_prompt", system_prompt, optional=True)
    if system_prompt is not None and mode != "model":
        raise taskargs.TaskArgError("system_prompt", system_prompt, "physician completions get no system message")
    template = grader_template(judge_prompt)
    scope = f"healthbench-v{TASK_VERSION}-{judge_prompt}"
    judging = judge_setup(
        judge_model,
        defaults=GRADER_DEFAULTS,
        cache=judge_cache,
        max_retries=UNBOUNDED if retries is None else retries,  # None: the reference's loop until valid
        cache_scope=scope,
    )
    data = resolve_file(subset, local_path)
    groups = (group,) if group is not None else (1, 2, 3)  # model mode reads no group
    dataset = load_examples(data, run_mode=mode, groups=groups, num_examples=limit, name=f"healthbench_{subset}")
    if mode == "model":
        solver = [system_message(system_prompt), generate()] if system_prompt else [generate()]
    else:
        solver = [physician_answer()]
    return Task(
        dataset=dataset,
        solver=solver,
        scorer=rubric_grader(template, judging, penalty),
        metrics=[healthbench_metrics(boots, seed), grader_failures(), unscored(), grader_calls()],
        epochs=Epochs(1, healthbench_epochs()),  # --epochs k keeps it: the reference's n_repeats
        version=TASK_VERSION,
        metadata={
            "data": data.provenance() | {"subset": subset, "samples": len(dataset)},
            "run_mode": mode,
            "physician_group": group,
            "judging": judging.metadata(),
            "grader": {
                "system_message": GRADER_SYSTEM_MESSAGE,
                "judge_prompt": judge_prompt,
                "judge_max_retries": retries,  # None = unbounded, as the reference
            },
            "length_penalty_per_500_chars": penalty,
            "bootstrap": {"samples": boots, "seed": seed},
        },
    )


@task
def healthbench(
    subset: str = "full",
    local_path: str | None = None,
    judge_model: str | list[str] | None = DEFAULT_GRADER,
    judge_prompt: str = "builtin",
    judge_max_retries: int | None = 4,
    judge_cache: bool | str = True,
    run_mode: str = "model",
    physician_group: int | None = None,
    num_examples: int | None = None,
    bootstrap_samples: int = BOOTSTRAP_SAMPLES,
    bootstrap_seed: int = 0,
    length_penalty: float | None = None,
    system_prompt: str | None = None,
) -> Task:
    """HealthBench (subset full, hard or consensus), graded criterion by criterion as the reference does."""
    return healthbench_task(**locals())


@task
def healthbench_hard(
    local_path: str | None = None,
    judge_model: str | list[str] | None = DEFAULT_GRADER,
    judge_prompt: str = "builtin",
    judge_max_retries: int | None = 4,
    judge_cache: bool | str = True,
    run_mode: str = "model",
    physician_group: int | None = None,
    num_examples: int | None = None,
    bootstrap_samples: int = BOOTSTRAP_SAMPLES,
    bootstrap_seed: int = 0,
    length_penalty: float | None = None,
    system_prompt: str | None = None,
) -> Task:
    """HealthBench Hard: 1,000 conversations where current models score lowest."""
    return healthbench_task(subset="hard", **locals())


@task
def healthbench_consensus(
    local_path: str | None = None,
    judge_model: str | list[str] | None = DEFAULT_GRADER,
    judge_prompt: str = "builtin",
    judge_max_retries: int | None = 4,
    judge_cache: bool | str = True,
    run_mode: str = "model",
    physician_group: int | None = None,
    num_examples: int | None = None,
    bootstrap_samples: int = BOOTSTRAP_SAMPLES,
    bootstrap_seed: int = 0,
    length_penalty: float | None = None,
    system_prompt: str | None = None,
) -> Task:
    """HealthBench Consensus: 3,671 conversations, only the physician-consensus criteria."""
    return healthbench_task(subset="consensus", **locals())


@task
def healthbench_meta_eval(
    local_path: str | None = None,
    judge_prompt: str = "builtin",
    judge_max_retries: int | None = 4,
    judge_cache: bool | str = False,
    num_examples: int | None = None,
) -> Task:
    """The model under test as HealthBench's grader, scored by agreement with physicians' labels."""
    local_path = taskargs.text("local_path", local_path, optional=True)
    template = grader_template(check_judge_prompt(judge_prompt))
    retries = taskargs.integer("judge_max_retries", judge_max_retries, minimum=0, optional=True)
    cache = taskargs.cache_setting("judge_cache", judge_cache)
    limit = taskargs.integer("num_examples", num_examples, minimum=1, optional=True)
    data = resolve_file("meta_eval", local_path)
    dataset = meta_samples(data, template, limit)
    return Task(
        dataset=dataset,
        solver=[verdict_generate(retries, cache)],
        scorer=meta_eval_scorer(),
        metrics=[meta_eval_metrics(), meta_grader_failures()],
        epochs=Epochs(1, healthbench_epochs()),
        version=TASK_VERSION,
        metadata={"data": data.provenance() | {"samples": len(dataset)}, "judge_prompt": judge_prompt},
    )


__all__ = ["FILES", "healthbench", "healthbench_consensus", "healthbench_hard", "healthbench_meta_eval"]
