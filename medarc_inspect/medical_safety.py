"""Medical safety suite: over-refusal, the safety/over-refusal trade-off, worst case under jailbreaks, and the
RBR gold-set meta-eval of our refusal-quality grader.

    inspect eval medarc_inspect/medical_overrefusal --model openai/gpt-4.1 --model-role grader=openai/gpt-4o-mini
    inspect eval medarc_inspect/medical_safety_tradeoff --model ... -T condition=deliberate
    inspect eval medarc_inspect/medical_jailbreak --model ...
    inspect eval medarc_inspect/rbr_meta_eval --model none --model-role grader=openai/gpt-4o-mini

Every answer is graded by yes/no propositions (one grader call each) and fixed rules (`safety/rbr.py`) into one of
five classes; see the README's "Medical safety suite" section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from medarc_inspect import taskargs
from medarc_inspect.judging import JudgeSetup, judge_setup
from medarc_inspect.medsafetybench import medsafetybench_samples
from medarc_inspect.safety import overrefusal, rbr_data
from medarc_inspect.safety.conditions import CONDITIONS, spec_condition
from medarc_inspect.safety.grader import GRADER_DEFAULTS
from medarc_inspect.safety.harmfulness import HarmfulnessJury
from medarc_inspect.safety.propositions import PropositionPrompts, proposition_prompts
from medarc_inspect.safety.rbr import CLASSES, HARD_REFUSE, PROFILES, RESPONSE_TYPES, classify
from medarc_inspect.safety.rbr_metrics import goodness, safety_tradeoff
from medarc_inspect.safety.scoring import gold_agreement, jailbreak_safety, refusal_quality
from medarc_inspect.safety.transforms import TRANSFORM_NAMES, TRANSFORMS

TASK_VERSION = 1  # bump whenever data, prompts or scoring change
DEFAULT_GRADER = "openai/gpt-4o-mini"  # returns logprobs, so P(yes) is a real probability
OVERREFUSAL_SETS = ("xstest", "medical_twins")
TRADEOFF_SETS = (*OVERREFUSAL_SETS, "medical_crisis")  # crisis: SR1/SR2 on the refuse side (opt-in)
CATEGORIES = tuple(range(1, 10))
MSB_SPLITS, MSB_SOURCES = ("test", "train"), ("gpt4", "llama2", "all")
ALL_TRANSFORMS = ",".join(TRANSFORM_NAMES)


# --- MedSafetyBench requests (the refuse side) -----------------------------------------------------------
def msb_requests(split: str, source: str, categories: Sequence[int]) -> list[Sample]:
    """MedSafetyBench's harmful requests (ids `{source}_c{k}_{index:03d}`, metadata source, category)."""
    sources = MSB_SOURCES[:2] if source == "all" else (source,)
    samples, _ = medsafetybench_samples(split, sources, list(categories))
    return samples


def refuse_samples(requests: list[Sample]) -> list[Sample]:
    """MedSafetyBench requests as hard-refuse samples of the trade-off (the grader sees the bare request)."""
    return [
        Sample(
            id=s.id,
            input=s.input,
            target=s.target,
            metadata=dict(s.metadata or {})
            | {"set": "medsafetybench", "response_type": HARD_REFUSE, "request": s.input},
        )
        for s in requests
    ]


def interleave(first: list[Sample], second: list[Sample]) -> list[Sample]:
    """Both lists, alternating while both last (so `--limit` runs see both sides of the trade-off)."""
    mixed = [s for pair in zip(first, second, strict=False) for s in pair]
    n = min(len(first), len(second))
    return mixed + first[n:] + second[n:]


def overrefusal_samples(sets: Sequence[str], categories: Sequence[int], include_unsafe: bool) -> list[Sample]:
    samples: list[Sample] = []
    if "xstest" in sets:
        samples += overrefusal.xstest_samples(include_unsafe=include_unsafe)
    if "medical_twins" in sets:
        samples += overrefusal.twin_samples(list(categories))
    if "medical_crisis" in sets:
        samples += overrefusal.crisis_samples()
    for sample in samples:
        sample.metadata = dict(sample.metadata or {}) | {"request": sample.input}
    return samples


def attack_samples(requests: list[Sample], transforms: Sequence[str]) -> list[Sample]:
    """Every request under every transform: id `{request}__{transform}`, the original kept in metadata."""
    return [
        Sample(
            id=f"{s.id}__{name}",
            input=TRANSFORMS[name].apply(str(s.input)),
            target=s.target,
            metadata=dict(s.metadata or {})
            | {
                "set": "medsafetybench",
                "response_type": HARD_REFUSE,
                "request": s.input,
                "request_id": s.id,
                "transform": name,
            },
        )
        for s in requests
        for name in transforms
    ]


# --- shared argument handling -----------------------------------------------------------------------------
def _grading(
    name: str, profile: Any, judge_model: Any, judge_max_retries: Any, judge_cache: Any
) -> tuple[PropositionPrompts, JudgeSetup]:
    """The proposition prompts (rbr_release reads the pinned file now) and the checked grader setup."""
    profile = taskargs.one_of("profile", profile, PROFILES)
    prompts = proposition_prompts(profile)
    setup = judge_setup(
        judge_model,
        defaults=GRADER_DEFAULTS,
        cache=judge_cache,
        max_retries=judge_max_retries,
        cache_scope=f"{name}-v{TASK_VERSION}-{prompts.profile}",
    )
    return prompts, setup


def _jury(enabled: Any, setup: JudgeSetup, judge_prompt: Any, judge_max_retries: Any, judge_cache: Any) -> Any:
    """MedSafetyBench's harmfulness jury (same judges as the grader), or None."""
    if not taskargs.flag("harmfulness", enabled):
        return None
    return HarmfulnessJury(
        judge_model=setup.requested or "default",
        judge_prompt=taskargs.one_of("judge_prompt", judge_prompt, ("builtin", "upstream")),
        judge_max_retries=int(judge_max_retries),
        judge_cache=taskargs.cache_setting("judge_cache", judge_cache),
        cache_scope=f"medical_safety-v{TASK_VERSION}",
    )


def _solver(condition: str) -> list[Solver]:
    return [spec_condition(condition), generate()]


def _msb_args(split: Any, source: Any, categories: Any) -> tuple[str, str, list[int]]:
    return (
        taskargs.one_of("split", split, MSB_SPLITS),
        taskargs.one_of("source", source, MSB_SOURCES),
        taskargs.subset("categories", categories, CATEGORIES, parse=int),
    )


def _config(max_tokens: Any) -> GenerateConfig:
    return GenerateConfig(max_tokens=taskargs.integer("max_tokens", max_tokens, minimum=1))


def _counts(samples: list[Sample], key: str) -> dict[str, int]:
    return dict(Counter(str((s.metadata or {}).get(key)) for s in samples))


# --- tasks -----------------------------------------------------------------------------------------------
@task
def medical_overrefusal(
    sets: str | list[str] = "xstest,medical_twins",
    categories: str | list[int] = "1,2,3,4,5,6,7,8,9",
    include_unsafe: bool = False,
    condition: str = "baseline",
    profile: str = "medical",
    judge_model: str | list[str] = DEFAULT_GRADER,
    judge_max_retries: int = 2,
    judge_cache: bool | str = True,
    max_tokens: int = 512,
) -> Task:
    """Does the model still help? XSTest's 250 safe prompts and 90 benign medical twins, graded as `Comply`."""
    chosen = taskargs.subset("sets", sets, OVERREFUSAL_SETS)
    cats = taskargs.subset("categories", categories, CATEGORIES, parse=int)
    unsafe = taskargs.flag("include_unsafe", include_unsafe)
    condition = taskargs.one_of("condition", condition, CONDITIONS)
    config = _config(max_tokens)
    prompts, setup = _grading("medical_overrefusal", profile, judge_model, judge_max_retries, judge_cache)
    samples = overrefusal_samples(chosen, cats, unsafe)
    return Task(
        dataset=MemoryDataset(samples, name="medical_overrefusal"),
        solver=_solver(condition),
        scorer=refusal_quality(setup, prompts, condition),
        config=config,
        version=TASK_VERSION,
        metadata={
            "sets": _counts(samples, "set"),
            "condition": condition,
            "profile": prompts.profile,
            "judging": setup.metadata(),
        },
    )


@task
def medical_safety_tradeoff(
    split: str = "test",
    source: str = "all",
    categories: str | list[int] = "1,2,3,4,5,6,7,8,9",
    sets: str | list[str] = "xstest,medical_twins",
    condition: str = "baseline",
    harmfulness: bool = True,
    profile: str = "medical",
    judge_model: str | list[str] = DEFAULT_GRADER,
    judge_prompt: str = "builtin",
    judge_max_retries: int = 2,
    judge_cache: bool | str = True,
    max_tokens: int = 512,
) -> Task:
    """MedSafetyBench requests (hard refuse) with the over-refusal set (comply): not_unsafe vs not_overrefuse."""
    split, source, cats = _msb_args(split, source, categories)
    chosen = taskargs.subset("sets", sets, TRADEOFF_SETS)
    condition = taskargs.one_of("condition", condition, CONDITIONS)
    config = _config(max_tokens)
    prompts, setup = _grading("medical_safety_tradeoff", profile, judge_model, judge_max_retries, judge_cache)
    jury = _jury(harmfulness, setup, judge_prompt, setup.max_retries, judge_cache)
    samples = interleave(refuse_samples(msb_requests(split, source, cats)), overrefusal_samples(chosen, cats, False))
    return Task(
        dataset=MemoryDataset(samples, name="medical_safety_tradeoff"),
        solver=_solver(condition),
        scorer=refusal_quality(setup, prompts, condition, jury),
        config=config,
        version=TASK_VERSION,
        metadata={
            "sets": _counts(samples, "set"),
            "condition": condition,
            "profile": prompts.profile,
            "judging": setup.metadata(),
            "harmfulness_jury": jury.describe() if jury else None,
        },
    )


@task
def medical_jailbreak(
    transforms: str | list[str] = ALL_TRANSFORMS,
    split: str = "test",
    source: str = "all",
    categories: str | list[int] = "1,2,3,4,5,6,7,8,9",
    condition: str = "baseline",
    fraction: float = 0.1,
    seed: int = 0,
    bootstrap: int = 1000,
    safety_from: str = "rbr",
    profile: str = "medical",
    judge_model: str | list[str] = DEFAULT_GRADER,
    judge_prompt: str = "builtin",
    judge_max_retries: int = 2,
    judge_cache: bool | str = True,
    max_tokens: int = 512,
) -> Task:
    """Worst case under jailbreaks: MedSafetyBench requests x deterministic attacks, goodness@0.1 over requests."""
    chosen = taskargs.subset("transforms", transforms, TRANSFORM_NAMES)
    split, source, cats = _msb_args(split, source, categories)
    condition = taskargs.one_of("condition", condition, CONDITIONS)
    frac = taskargs.number("fraction", fraction, minimum=0.01, maximum=1.0)
    seed = int(taskargs.integer("seed", seed) or 0)
    resamples = int(taskargs.integer("bootstrap", bootstrap, minimum=2, maximum=100_000) or 2)
    safety_from = taskargs.one_of("safety_from", safety_from, ("rbr", "harmfulness"))
    config = _config(max_tokens)
    prompts, setup = _grading("medical_jailbreak", profile, judge_model, judge_max_retries, judge_cache)
    jury = _jury(safety_from == "harmfulness", setup, judge_prompt, setup.max_retries, judge_cache)
    samples = attack_samples(msb_requests(split, source, cats), chosen)
    return Task(
        dataset=MemoryDataset(samples, name="medical_jailbreak"),
        solver=_solver(condition),
        scorer=jailbreak_safety(setup, prompts, condition, jury, safety_from),
        metrics=[safety_tradeoff(by="transform"), goodness(frac, seed, resamples)],
        config=config,
        version=TASK_VERSION,
        metadata={
            "transforms": chosen,
            "fraction": frac,
            "condition": condition,
            "safety_from": safety_from,
            "profile": prompts.profile,
            "judging": setup.metadata(),
        },
    )


@solver
def gold_completion() -> Solver:
    """The gold row's completion becomes the output (no model is called)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content(model="rbr-gold", content=state.metadata["completion"])
        return state

    return solve


def gold_samples(rows: list[rbr_data.GoldRow]) -> list[Sample]:
    return [
        Sample(
            id=row.id,
            input=row.prompt[-1]["content"],
            metadata={
                "split": row.split,
                "category": row.category,
                "response_type": row.response_type,
                "conversation": row.prompt,
                "completion": row.completion,
                "human_propositions": row.propositions,
            },
        )
        for row in rows
    ]


def rules_on_human_labels(rows: list[rbr_data.GoldRow], profile: str = "rbr_release") -> dict[str, dict[str, int]]:
    """The class table the rules give the human labels (spec §2.5 for the release rules on all 518 rows)."""
    table = {t: dict.fromkeys(CLASSES, 0) for t in RESPONSE_TYPES}
    for row in rows:
        table[row.response_type][classify(row.response_type, row.propositions, profile)] += 1  # type: ignore[arg-type]
    return table


@task
def rbr_meta_eval(
    split: str = "test",
    profile: str = "rbr_release",
    all_propositions: bool = False,
    judge_model: str | list[str] = DEFAULT_GRADER,
    judge_max_retries: int = 2,
    judge_cache: bool | str = True,
) -> Task:
    """Our grader on the RBR gold set (518 human-labelled rows; offensive text): proposition accuracy/F1, classes."""
    split = taskargs.one_of("split", split, ("train", "test", "all"))
    every = taskargs.flag("all_propositions", all_propositions)
    prompts, setup = _grading("rbr_meta_eval", profile, judge_model, judge_max_retries, judge_cache)
    rows = [r for s in (("train", "test") if split == "all" else (split,)) for r in rbr_data.load_gold(s)]  # type: ignore[arg-type]
    return Task(
        dataset=MemoryDataset(gold_samples(rows), name="rbr_meta_eval"),
        solver=[gold_completion()],
        scorer=gold_agreement(setup, prompts, every),
        version=TASK_VERSION,
        metadata={
            "split": split,
            "profile": prompts.profile,
            "rbr_commit": rbr_data.RBR_COMMIT,
            "judging": setup.metadata(),
            "rules_on_human_labels": rules_on_human_labels(rows, prompts.profile),
        },
    )
