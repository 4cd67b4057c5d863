"""MTSamples Procedures and MTSamples Replicate (HELM / MedHELM).

Recipe: an MTSamples note with its plan-like section cut off -> the model writes a treatment plan -> a jury of
LLM judges rates it against the cut-off section on accuracy, completeness and clarity (1-5 each).

    inspect eval medarc_inspect/mtsamples_procedures --model openai/gpt-5-mini
    inspect eval medarc_inspect/mtsamples.py --model ... --model-role grader=openai/gpt-4o-mini,anthropic/...
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, get_model
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from medarc_inspect import taskargs
from medarc_inspect.data import (
    PinnedFile,
    fetch_all,
    fetch_pinned,
    load_manifest,
    manifest_digest,
    read_call_keywords,
    read_python_constant,
)
from medarc_inspect.errors import UserFacingError
from medarc_inspect.judging import (
    JudgeSetup,
    JudgeVerdict,
    as_score,
    fill_slots,
    judge_failure_rate,
    judge_failures,
    judge_setup,
    parse_json_reply,
    unscored,
)
from medarc_inspect.prompting import strip_think, think_prompt

logger = logging.getLogger(__name__)

TASK_VERSION = 1  # bump whenever data processing, prompts or scoring change

# --- data (HELM's sources, pinned) -----------------------------------------------------------------------
DATA_REPO = "raulista1997/benchmarkdata"
HELM_COMMIT = "63754d05db6f874e41a395880fb573890a13e791"


@dataclass(frozen=True)
class Variant:
    """One of the two MTSamples benchmarks."""

    name: str
    commit: str
    folder: str
    manifest: str
    input_noun: str | None  # HELM prints "Patient Notes: " before the note for procedures only
    cut_input_at: tuple[str, ...]  # headers whose text (and everything after) is hidden from the model
    completeness: str  # the completeness criterion, as each HELM annotator words it
    helm_annotator: tuple[str, str]  # (path, sha256) of the HELM file holding the judge template
    helm_spec_function: str  # run-spec function holding the adapter instructions


SECTIONS = ("PLAN:", "SUMMARY:", "FINDINGS:")  # reference = first non-empty, in this order
PROCEDURES = Variant(
    name="mtsamples_procedures",
    commit="c4c252443fa9c52afb6960f53e51be278639bea2",
    folder="mtsample_procedure",
    manifest="mtsamples_procedure",
    input_noun="Patient Notes",
    cut_input_at=SECTIONS,
    completeness="Does the plan cover all important aspects of this patient's care?",
    helm_annotator=(
        "src/helm/benchmark/annotation/mtsamples_procedures_annotator.py",
        "660255b4da5a6f706b32cd195c55ba2f408da751dca9f82fec51cfe2ba7114f8",
    ),
    helm_spec_function="get_mtsamples_procedures_spec",
)
REPLICATE = Variant(
    name="mtsamples_replicate",
    commit="ebc104a4f96c5b7602242f301e081e9934a23344",
    folder="mtsamples_processed",
    manifest="mtsamples_processed",
    input_noun=None,
    cut_input_at=("PLAN:",),
    completeness="Does the plan include all the important medical details?",
    helm_annotator=(
        "src/helm/benchmark/annotation/mtsamples_replicate_annotator.py",
        "56d1e21061592d4b1ddf39209d2a2d8b98ad6670cf80444c3d994e464129ee89",
    ),
    helm_spec_function="get_mtsamples_spec",
)
HELM_RUN_SPECS = (
    "src/helm/benchmark/run_specs/medhelm_run_specs.py",
    "defc2f7757620f9c789551e2950bee8d57180adc15fb998d755bb69e3881bddb",
)
HELM_TEMPLATE_SHA256 = {
    "mtsamples_procedures": "2ccb74230313bced35872866b7b8ebefc3bf0e2a39fa1d1703c085a0bd1195be",
    "mtsamples_replicate": "8e4979f57cdc89dc6fe7a4e683582c4790e8fb1e69f1def2ad9e13c13046cbd8",
}
HELM_LISTING_LIMIT = 1000  # HELM listed replicate files through the GitHub contents API, which stops at 1,000


def note_url(variant: Variant, filename: str) -> str:
    return f"https://raw.githubusercontent.com/{DATA_REPO}/{variant.commit}/{variant.folder}/{quote(filename, safe='')}"


def helm_url(path: str) -> str:
    return f"https://raw.githubusercontent.com/stanford-crfm/helm/{HELM_COMMIT}/{path}"


class DroppedNote(Exception):
    """HELM would not build an instance from this note."""


def helm_section(text: str, header: str) -> str | None:
    """HELM's value for `header`: None if absent (in any case); the rest of its line otherwise.

    The value runs from the first case-sensitive occurrence to the next occurrence or the end of the line.
    A header that exists only in another case (`Findings:`) made HELM raise, dropping the note.
    """
    if header not in text.upper():
        return None
    if header not in text:
        raise DroppedNote(f"{header} occurs only in another case")
    return text.split(header)[1].split("\n")[0].strip()


def build_instance(text: str, variant: Variant) -> tuple[str, str, str]:
    """(model input, reference, section name) from a note's text, exactly as HELM builds it."""
    text = text.strip()
    values = {header: helm_section(text, header) for header in SECTIONS}
    section = next((h for h in SECTIONS if values[h]), None)
    if section is None:
        raise DroppedNote("no PLAN, SUMMARY or FINDINGS value")
    note = text
    for header in variant.cut_input_at:
        if header in note:
            note = note.split(header)[0].strip()
    return note, values[section] or "", section.rstrip(":")


def mtsamples_dataset(variant: Variant, truncate_1000: bool = False) -> tuple[MemoryDataset, dict[str, Any]]:
    """The HELM instances of `variant` and the provenance to record in the eval log."""
    entries = load_manifest(variant.manifest)
    if truncate_1000:
        entries = entries[:HELM_LISTING_LIMIT]
    paths = fetch_all([PinnedFile(note_url(variant, n), sha) for n, sha in entries], label=variant.name)
    samples, dropped = [], 0
    for (filename, sha256), path in zip(entries, paths, strict=True):
        try:
            note, reference, section = build_instance(path.read_text(encoding="utf-8"), variant)
        except DroppedNote:
            dropped += 1
            continue
        samples.append(
            Sample(
                id=filename.removesuffix(".txt"),
                input=note,  # the model prompt is built by the solver, so the judge sees the bare note
                target=reference,
                metadata={"filename": filename, "extracted_section": section, "file_sha256": sha256},
            )
        )
    provenance = {
        "source": f"https://github.com/{DATA_REPO}/tree/{variant.commit}/{variant.folder}",
        "commit": variant.commit,
        "manifest_sha256": manifest_digest(entries),
        "files": len(entries),
        "instances": len(samples),
        "dropped": dropped,
        "helm_commit": HELM_COMMIT,
    }
    return MemoryDataset(samples, name=variant.name), provenance


# --- prompting the model under test ----------------------------------------------------------------------
INSTRUCTION = "Read the patient information below and write an appropriate treatment plan for this patient."
OUTPUT_NOUN = "Answer"


@dataclass(frozen=True)
class PromptLayout:
    """HELM's generation layout: instruction, blank line, [noun: ]note, newline, output noun and colon."""

    instructions: str
    input_noun: str | None
    output_noun: str

    def render(self, note: str) -> str:
        body = f"{self.input_noun}: {note}" if self.input_noun else note
        return f"{self.instructions}\n\n{body}\n{self.output_noun}:"


def prompt_layout(variant: Variant, instruction: Literal["builtin", "upstream"]) -> PromptLayout:
    if instruction == "builtin":
        return PromptLayout(INSTRUCTION, variant.input_noun, OUTPUT_NOUN)
    if instruction != "upstream":
        raise UserFacingError(f"instruction must be 'builtin' or 'upstream', got {instruction!r}")
    path = fetch_pinned(helm_url(HELM_RUN_SPECS[0]), HELM_RUN_SPECS[1])
    keywords = read_call_keywords(path, variant.helm_spec_function, "get_generation_adapter_spec")
    return PromptLayout(keywords["instructions"], keywords.get("input_noun"), keywords["output_noun"])


@solver
def helm_prompt(layout: PromptLayout) -> Solver:
    """Wrap the note (the sample input) in HELM's prompt layout."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.user_prompt.text = layout.render(state.input_text)
        return state

    return solve


# --- judging ---------------------------------------------------------------------------------------------
CRITERIA = ("accuracy", "completeness", "clarity")
JUDGE_DEFAULTS = GenerateConfig(temperature=0, max_tokens=4096)  # HELM's annotator settings
DEFAULT_JUDGE = "openai/gpt-4o-mini"
JUDGE_PRESETS: dict[str, list[str]] = {  # -T judge_model=helm selects a whole jury
    "helm": [  # MedHELM's jury (judges.yaml); the Llama model name depends on the provider you use
        "openai/gpt-4o-2024-05-13",
        "together/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "anthropic/claude-3-7-sonnet-20250219",
    ],
    "medarc": ["openai/gpt-5-mini"],
}
JudgeFailurePolicy = Literal["exclude", "medarc", "helm"]
JUDGE_FAILURE_POLICIES = ("exclude", "medarc", "helm")
PROMPT_SOURCES = ("builtin", "upstream")

JUDGE_TEMPLATE = """You are a physician reviewing a treatment plan that an AI system wrote for a patient. Compare it \
with the plan that the patient's clinicians actually documented (the gold response).

<patient_note>
{QUESTION}
</patient_note>

<response>
{RESPONSE}
</response>

<gold_response>
{GOLD_RESPONSE}
</gold_response>

Rate the response on each criterion below from 1 (very poor) to 5 (excellent) and justify each rating in one short \
sentence.
- accuracy: Is the plan medically correct, in line with current clinical guidelines and with this patient's case?
- completeness: {COMPLETENESS}
- clarity: Is the plan organised and written so that a clinician can follow it easily?

Answer with a single JSON object and nothing else, in exactly this shape (use double quotes, and escape any double \
quote inside an explanation):
{"accuracy": {"score": <1-5>, "explanation": "<one sentence>"}, \
"completeness": {"score": <1-5>, "explanation": "<one sentence>"}, \
"clarity": {"score": <1-5>, "explanation": "<one sentence>"}}"""


JUDGE_SLOTS = ("QUESTION", "RESPONSE", "GOLD_RESPONSE")  # written {QUESTION}, ... in both templates


def judge_template(variant: Variant, judge_prompt: Literal["builtin", "upstream"]) -> str:
    """The judge prompt with {QUESTION}, {RESPONSE} and {GOLD_RESPONSE} slots (see `fill_template`)."""
    if judge_prompt == "builtin":
        return fill_slots(JUDGE_TEMPLATE, {"COMPLETENESS": variant.completeness})
    if judge_prompt != "upstream":
        raise UserFacingError(f"judge_prompt must be 'builtin' or 'upstream', got {judge_prompt!r}")
    path = fetch_pinned(helm_url(variant.helm_annotator[0]), variant.helm_annotator[1])
    template = read_python_constant(path, "PROMPT_TEMPLATE")
    digest = hashlib.sha256(template.encode()).hexdigest()
    if digest != HELM_TEMPLATE_SHA256[variant.name]:
        raise UserFacingError(
            f"HELM's PROMPT_TEMPLATE in {path} has sha256 {digest}, expected {HELM_TEMPLATE_SHA256[variant.name]}"
        )
    return template


def fill_template(template: str, note: str, response: str, gold: str) -> str:
    """The judge prompt, filled in one pass: an answer that contains `{GOLD_RESPONSE}` stays as written."""
    return fill_slots(template, dict(zip(JUDGE_SLOTS, (note, response, gold), strict=True)))


def parse_ratings(reply: str) -> dict[str, float]:
    """The three 1-5 ratings from a judge reply (keys matched case-insensitively)."""

    def accept(candidate: dict[str, Any]) -> dict[str, float] | None:
        lowered = {str(k).lower(): v for k, v in candidate.items()}
        ratings = {}
        for criterion in CRITERIA:
            entry = lowered.get(criterion)
            raw = entry.get("score") if isinstance(entry, dict) else None
            score = as_score(raw, 1, 5)
            if score is None:
                return None
            ratings[criterion] = score
        return ratings

    return parse_json_reply(reply, accept)


def jury_value(verdicts: list[JudgeVerdict[dict[str, float]]], policy: JudgeFailurePolicy) -> dict[str, float]:
    """Score.value for one sample: per-criterion raw means, the 1-5 jury score and the 0-1 normalised score.

    exclude (ours): failed verdicts are left out; no valid verdict -> NaN (unscored, counted).
    medarc: an unparseable verdict scores 0 (as all 1s); API errors are left out; none left -> 0.
    helm: failed verdicts are left out, ratings truncated with int(); no valid verdict -> 1 (the minimum).
    """
    if policy not in ("exclude", "medarc", "helm"):
        raise UserFacingError(f"judge_failure must be 'exclude', 'medarc' or 'helm', got {policy!r}")
    floor = dict.fromkeys(CRITERIA, 1.0)
    ratings = []
    for verdict in verdicts:
        if verdict.ok and verdict.parsed is not None:
            parsed = verdict.parsed
            ratings.append({k: float(int(v)) for k, v in parsed.items()} if policy == "helm" else parsed)
        elif policy == "medarc" and verdict.error_kind == "unparseable":
            ratings.append(floor)
    failures = sum(not v.ok for v in verdicts)
    if not ratings:
        ratings = [] if policy == "exclude" else [floor]
    value = {c: _mean([r[c] for r in ratings]) for c in CRITERIA}
    value["score_raw"] = _mean([r[c] for r in ratings for c in CRITERIA])
    value["score_norm"] = _mean([_mean([(r[c] - 1) / 4 for c in CRITERIA]) for r in ratings])
    return value | {"judge_failures": float(failures), "judges_asked": float(len(verdicts))}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


@scorer(
    metrics=[
        {
            "score_norm": [mean(), stderr()],
            "score_raw": [mean(), stderr()],
            "accuracy": [mean(), stderr()],
            "completeness": [mean(), stderr()],
            "clarity": [mean(), stderr()],
        },
        judge_failures(),
        judge_failure_rate(),
        unscored("score_norm"),
    ]
)
def mtsamples_jury(template: str, judges: JudgeSetup, judge_failure: JudgeFailurePolicy = "exclude") -> Scorer:
    """Each judge rates the answer (think blocks removed) against the reference; see `jury_value`."""
    warned: set[str] = set()

    async def score(state: TaskState, target: Target) -> Score:
        answer = strip_think(state.output.completion)
        judging = judges.metadata()
        if not answer:  # nothing to judge: the minimum, as HELM gives
            value = dict.fromkeys(CRITERIA, 1.0) | {"score_raw": 1.0, "score_norm": 0.0}
            return Score(
                value=value | {"judge_failures": 0.0, "judges_asked": 0.0},
                answer="",
                explanation="empty answer (after removing think blocks): minimum score, no judge asked",
                metadata={"empty_output": True, "verdicts": [], "judging": judging},
            )
        _warn_self_judging(judges.current_judges(), warned)
        prompt = fill_template(template, state.input_text, answer, target.text)
        verdicts = await judges.ask(prompt, parse_ratings)
        value = jury_value(verdicts, judge_failure)
        failed = int(value["judge_failures"])
        return Score(
            value=value,
            answer=answer,
            explanation=f"{len(verdicts) - failed}/{len(verdicts)} judges gave a valid verdict",
            metadata={"empty_output": False, "verdicts": [v.to_log() for v in verdicts], "judging": judging},
        )

    return score


def _warn_self_judging(judges: list, warned: set[str]) -> None:
    under_test = str(get_model())
    for judge in judges:
        if str(judge) == under_test and under_test not in warned:
            warned.add(under_test)
            logger.warning("the judge %s is also the model under test", under_test)


# --- tasks -----------------------------------------------------------------------------------------------
def mtsamples_task(
    variant: Variant,
    *,
    use_think: Any,
    judge_model: Any,
    judge_failure: Any,
    judge_max_retries: Any,
    judge_prompt: Any,
    judge_cache: Any,
    instruction: Any,
    max_tokens: Any,
    truncate_1000: Any = False,
) -> Task:
    """Every argument is checked (one line per mistake) and the judges resolved before anything is loaded."""
    use_think = taskargs.flag("use_think", use_think)
    judge_failure = taskargs.one_of("judge_failure", judge_failure, JUDGE_FAILURE_POLICIES)
    judge_prompt = taskargs.one_of("judge_prompt", judge_prompt, PROMPT_SOURCES)
    instruction = taskargs.one_of("instruction", instruction, PROMPT_SOURCES)
    max_tokens = taskargs.integer("max_tokens", max_tokens, minimum=1)
    truncate_1000 = taskargs.flag("truncate_1000", truncate_1000)
    judges = judge_setup(
        judge_model,
        presets=JUDGE_PRESETS,
        defaults=JUDGE_DEFAULTS,
        cache=judge_cache,
        max_retries=judge_max_retries,
        cache_scope=f"{variant.name}-v{TASK_VERSION}-{judge_prompt}",
    )
    template = judge_template(variant, judge_prompt)
    layout = prompt_layout(variant, instruction)
    dataset, provenance = mtsamples_dataset(variant, truncate_1000)
    solver = [helm_prompt(layout)]
    if use_think:
        solver.append(think_prompt())
    solver.append(generate())
    return Task(
        dataset=dataset,
        solver=solver,
        scorer=mtsamples_jury(template, judges, judge_failure),
        config=GenerateConfig(temperature=0, max_tokens=max_tokens),
        version=TASK_VERSION,
        metadata={"data": provenance, "judging": judges.metadata() | {"judge_failure": judge_failure}},
    )


@task
def mtsamples_procedures(
    use_think: bool = False,
    judge_model: str | list[str] | None = DEFAULT_JUDGE,
    judge_failure: JudgeFailurePolicy = "exclude",
    judge_max_retries: int = 2,
    judge_prompt: Literal["builtin", "upstream"] = "builtin",
    judge_cache: bool | str = True,
    instruction: Literal["builtin", "upstream"] = "builtin",
    max_tokens: int = 512,
) -> Task:
    """MTSamples Procedures: 131 operative notes; write the plan, judged 1-5 by an LLM jury."""
    return mtsamples_task(PROCEDURES, **locals())  # every task arg, by name


@task
def mtsamples_replicate(
    use_think: bool = False,
    judge_model: str | list[str] | None = DEFAULT_JUDGE,
    judge_failure: JudgeFailurePolicy = "exclude",
    judge_max_retries: int = 2,
    judge_prompt: Literal["builtin", "upstream"] = "builtin",
    judge_cache: bool | str = True,
    instruction: Literal["builtin", "upstream"] = "builtin",
    max_tokens: int = 512,
    truncate_1000: bool = False,
) -> Task:
    """MTSamples Replicate: 539 notes of all specialties (427 with HELM's 1,000-file listing)."""
    return mtsamples_task(REPLICATE, **locals())  # every task arg, by name
