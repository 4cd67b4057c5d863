"""MTSamples: HELM instance construction on the real upstream files, and judged end-to-end runs."""

import hashlib
import itertools
import json
import math
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.model import ModelOutput, get_model

from medarc_inspect import mtsamples as mtsamples_module
from medarc_inspect.data import DataUnavailableError
from medarc_inspect.judging import JudgeParseError
from medarc_inspect.mtsamples import (
    PROCEDURES,
    REPLICATE,
    build_instance,
    mtsamples_dataset,
    parse_ratings,
)
from medarc_inspect.mtsamples import mtsamples_procedures as procedures_task
from medarc_inspect.mtsamples import mtsamples_replicate as replicate_task
from tests.conftest import SHARED_MIRROR, build_mirror

M = "mockllm/model"


def mtsamples_procedures(**args):
    """The task built outside an eval: its named judge is constructed (never called); tests bind the role."""
    return procedures_task(**({"judge_model": M} | args))


def mtsamples_replicate(**args):
    return replicate_task(**({"judge_model": M} | args))


NOTES_SUBTREE = "raw.githubusercontent.com/raulista1997/benchmarkdata"
GOOD = {c: {"score": 4, "explanation": "ok"} for c in ("accuracy", "completeness", "clarity")}


def judge(*replies: str):
    outputs = [ModelOutput.from_content(M, r) for r in replies]
    return get_model(M, custom_outputs=itertools.chain(outputs, itertools.repeat(outputs[-1])), memoize=False)


def ratings(accuracy: int, completeness: int, clarity: int) -> str:
    return json.dumps(
        {
            "accuracy": {"score": accuracy, "explanation": "a"},
            "completeness": {"score": completeness, "explanation": "b"},
            "clarity": {"score": clarity, "explanation": "c"},
        }
    )


def model_answering(text: str):
    return get_model(M, custom_outputs=itertools.repeat(ModelOutput.from_content(M, text)), memoize=False)


# --- instance construction on the real files ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def procedures(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    if not SHARED_MIRROR.is_dir():
        pytest.skip("offline mirror not available")
    mp.setenv("MEDARC_INSPECT_MIRROR", str(SHARED_MIRROR))
    mp.setenv("MEDARC_INSPECT_OFFLINE", "1")
    mp.setenv("MEDARC_INSPECT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    dataset, provenance = mtsamples_dataset(PROCEDURES)
    mp.undo()
    return {s.id: s for s in dataset}, provenance


def test_procedures_has_exactly_helms_131_instances(procedures):
    samples, provenance = procedures
    assert len(samples) == 131
    sections = [s.metadata["extracted_section"] for s in samples.values()]
    assert (sections.count("PLAN"), sections.count("SUMMARY"), sections.count("FINDINGS")) == (27, 6, 98)
    assert provenance["manifest_sha256"] == "34b0f540534bcfb9483b014e80a66ceff0924a82fdffa1044520a9628e37a240"
    assert provenance["files"] == 429 and provenance["dropped"] == 298
    for sample in samples.values():
        assert not any(h in sample.input for h in ("PLAN:", "SUMMARY:", "FINDINGS:"))


def test_procedures_acceptance_facts(procedures):
    samples, _ = procedures
    angiogram = samples["Angiogram & StarClose Closure"]
    assert angiogram.metadata["extracted_section"] == "PLAN"
    assert angiogram.target == "Plan will be to perform elective PCI of the mid LAD."
    assert len(angiogram.input) == 585
    assert angiogram.metadata["file_sha256"] == "05494309af193f2620df2671524a87442a623327269d5da60d82a574590ffd3f"
    ac = samples["AC Separation Revision & Hardware Removal"]
    assert ac.metadata["extracted_section"] == "SUMMARY" and len(ac.target) == 1048
    assert ac.input.endswith("COMPLICATIONS: None.")
    abscess = samples["Abscess Excision"]
    assert abscess.metadata["extracted_section"] == "FINDINGS" and len(abscess.target) == 1333
    assert "Adenoidectomy" not in samples
    vascular = samples["Vascular Surgery SOAP Note Sample Report #2"]  # '#' in the name: URL-encoded on fetch
    assert vascular.metadata["extracted_section"] == "PLAN" and vascular.input.endswith("ASSESSMENT AND")
    assert vascular.metadata["filename"] == "Vascular Surgery SOAP Note Sample Report #2.txt"


@pytest.mark.parametrize(("truncate", "count", "last"), [(False, 539, "Wrist Pain"), (True, 427, "OB-GYN - H&P")])
def test_replicate_instances_with_and_without_helms_listing_cap(shared_mirror, monkeypatch, truncate, count, last):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    dataset, provenance = mtsamples_dataset(REPLICATE, truncate_1000=truncate)
    assert len(dataset) == count
    first = dataset[0]
    assert first.id == "1-year-old Exam - H&P"
    assert first.target == "Diagnostic & Lab Orders: Ordered blood lead."
    assert dataset[len(dataset) - 1].id == last
    ids = {s.id for s in dataset}
    assert "OB-GYN Consultation - 4" not in ids  # PLAN: present, but only 'Findings:' -> HELM drops it
    assert provenance["files"] == (1000 if truncate else 1269)


def test_helm_reads_the_first_occurrence_of_a_header():
    note = "Sample Name: X\nSUMMARY: first one.SUMMARY: second one.\nKeywords: SUMMARY: third"
    assert build_instance(note, PROCEDURES)[1:] == ("first one.", "SUMMARY")


def test_helm_rules_on_a_note_we_wrote():
    note = "Sample Name: X\nDESCRIPTION: Y.FINDINGS: Small cyst.SUMMARY: Done.\nPLAN: \nKeywords: a"
    # PLAN is empty, so SUMMARY (cut at the newline) is the reference; the input stops before FINDINGS
    assert build_instance(note, PROCEDURES) == ("Sample Name: X\nDESCRIPTION: Y.", "Done.", "SUMMARY")
    # replicate hides only the PLAN section
    assert build_instance(note, REPLICATE)[0].endswith("SUMMARY: Done.")


def test_offline_without_a_mirror_fails_with_one_clear_message(monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    with pytest.raises(DataUnavailableError, match="MEDARC_INSPECT_MIRROR"):
        mtsamples_dataset(PROCEDURES)


# --- judging -------------------------------------------------------------------------------------------------
def test_parse_ratings_is_case_insensitive_and_accepts_numeric_strings():
    reply = 'Sure:\n```json\n{"Accuracy": {"score": "5"}, "COMPLETENESS": {"score": 3}, "clarity": {"score": 4.0}}\n```'
    assert parse_ratings(reply) == {"accuracy": 5.0, "completeness": 3.0, "clarity": 4.0}


@pytest.mark.parametrize("bad", [0, 6, 5.5, True, None, "high"])
def test_parse_ratings_rejects_out_of_range_scores(bad):
    with pytest.raises(JudgeParseError, match="no acceptable JSON object"):
        parse_ratings(ratings(bad, 3, 3))


# --- end to end ------------------------------------------------------------------------------------------------
def run(task, tmp_path, judges, model=M, **kwargs):
    [log] = eval(
        task,
        model=model,
        model_roles={"grader": judges},
        log_dir=str(tmp_path),
        display="none",
        **({"limit": 2} | kwargs),
    )
    assert log.status == "success", log.error
    return log


def metric(log, name, key=None):
    for score in log.results.scores:
        if (key is None or score.name == key) and name in score.metrics:
            return score.metrics[name].value
    raise KeyError(name)


def test_one_judge_end_to_end(shared_mirror, tmp_path):
    log = run(mtsamples_procedures(), tmp_path, judge(ratings(5, 3, 4)))
    scores = {r.name: r.metrics for r in log.results.scores}
    assert scores["score_raw"]["mean"].value == pytest.approx(4.0)
    assert scores["score_norm"]["mean"].value == pytest.approx(0.75)
    assert scores["accuracy"]["mean"].value == 5.0
    assert log.eval.task_version == 2
    assert log.eval.metadata["data"]["manifest_sha256"].startswith("34b0f540")
    sample = log.samples[0]
    [v] = sample.scores["mtsamples_jury"].metadata["verdicts"]
    assert v["parsed"] == {"accuracy": 5.0, "completeness": 3.0, "clarity": 4.0} and v["replies"]
    assert sample.id == "AC Separation Revision & Hardware Removal"


def test_three_judges_are_averaged(shared_mirror, tmp_path):
    judges = [judge(ratings(5, 5, 5)), judge(ratings(3, 3, 3)), judge(ratings(1, 2, 3))]
    log = run(mtsamples_procedures(), tmp_path, judges)
    sample_value = log.samples[0].scores["mtsamples_jury"].value
    assert sample_value["score_raw"] == pytest.approx((15 + 9 + 6) / 9)
    assert sample_value["judges_asked"] == 3 and sample_value["judge_failures"] == 0


def test_malformed_then_valid_judge_reply_is_recovered(shared_mirror, tmp_path):
    log = run(mtsamples_procedures(), tmp_path, judge("I think it is fine.", ratings(4, 4, 4)), limit=1)
    [v] = log.samples[0].scores["mtsamples_jury"].metadata["verdicts"]
    assert v["attempts"] == 2 and v["error"] is None
    assert v["replies"][0] == "I think it is fine."
    assert metric(log, "judge_failures") == 0


def test_all_judges_failing_leaves_samples_unscored_and_counted(shared_mirror, tmp_path):
    log = run(mtsamples_procedures(judge_max_retries=1), tmp_path, [judge("nope"), judge("{bad json")])
    value = log.samples[0].scores["mtsamples_jury"].value
    assert math.isnan(value["score_norm"]) and value["judge_failures"] == 2
    assert metric(log, "judge_failures") == 4
    assert metric(log, "judge_failure_rate") == 1.0
    assert metric(log, "unscored") == 2


def test_medarc_parity_scores_unparseable_as_zero(shared_mirror, tmp_path):
    log = run(mtsamples_procedures(judge_failure="medarc"), tmp_path, [judge("nope", ratings(5, 5, 5))])
    value = log.samples[0].scores["mtsamples_jury"].value
    assert value["score_norm"] == 0.0 and value["judge_failures"] == 1  # asked once: the valid re-ask never happens
    assert log.eval.metadata["judging"]["profile"]["name"] == "medarc"
    assert log.eval.metadata["judging"]["max_retries"] == 0


def test_helm_parity_counts_the_crashes_upstream_would_have_had(shared_mirror, tmp_path):
    crash = json.dumps(json.loads(ratings(4, 4, 4)) | {"overall": 5})
    log = run(mtsamples_procedures(judge_failure="helm"), tmp_path, [judge(crash), judge(ratings(2, 3, 4))])
    assert metric(log, "upstream_crashes") == 2 and metric(log, "judge_failures") == 2
    assert metric(log, "mean", "score_raw") == 3.0


def test_think_blocks_are_stripped_before_judging(shared_mirror, tmp_path):
    seen = []

    def grader(input, tools, tool_choice, config):
        seen.append(input[-1].text)
        return ModelOutput.from_content(M, ratings(4, 4, 4))

    raw = "<think>secret reasoning</think>Start aspirin."
    log = run(
        mtsamples_procedures(use_think=True),
        tmp_path,
        get_model(M, custom_outputs=grader, memoize=False),
        model=model_answering(raw),
        limit=1,
    )
    assert "secret reasoning" not in seen[0] and "Start aspirin." in seen[0]
    assert "<think>" in log.samples[0].messages[0].text  # the model was asked to think in tags
    assert log.samples[0].output.completion == raw  # the raw text stays in the log
    assert log.samples[0].scores["mtsamples_jury"].answer == "Start aspirin."


def test_empty_answer_gets_the_minimum_without_asking_a_judge(shared_mirror, tmp_path):
    def never(input, tools, tool_choice, config):
        raise AssertionError("the judge must not be asked")

    log = run(
        mtsamples_procedures(),
        tmp_path,
        get_model(M, custom_outputs=never, memoize=False),
        model=model_answering("<think>never finished"),
        limit=1,
    )
    score = log.samples[0].scores["mtsamples_jury"]
    assert score.value["score_raw"] == 1.0 and score.value["score_norm"] == 0.0
    assert score.metadata["empty_output"] is True


def test_prompt_layout_and_judge_prompt(shared_mirror, tmp_path):
    prompts = []

    def grader(input, tools, tool_choice, config):
        prompts.append(input[-1].text)
        return ModelOutput.from_content(M, ratings(3, 3, 3))

    log = run(mtsamples_replicate(), tmp_path, get_model(M, custom_outputs=grader, memoize=False), limit=1)
    sample = log.samples[0]
    user = sample.messages[0].text
    assert user.endswith("\nAnswer:") and "\n\nMedical Specialty:" in user and "Patient Notes:" not in user
    assert sample.target in prompts[0] and "Default output from mockllm" in prompts[0]
    assert "Answer:" not in prompts[0].split("<patient_note>")[1].split("</patient_note>")[0]
    assert log.plan.config.temperature == 0 and log.plan.config.max_tokens == 512


def test_epochs_reduce_per_key(shared_mirror, tmp_path):
    alternating = judge(ratings(1, 2, 3), ratings(5, 4, 3), ratings(1, 2, 3), ratings(5, 4, 3))
    log = run(mtsamples_procedures(judge_cache=False), tmp_path, alternating, epochs=2, limit=1)
    assert metric(log, "mean", "score_raw") == 3.0  # (2 + 4) / 2: epochs averaged, not one of them kept
    assert metric(log, "mean", "accuracy") == 3.0 and metric(log, "mean", "clarity") == 3.0
    reduced = log.samples[0].scores["mtsamples_jury"].value
    assert reduced["score_raw"] in (2.0, 4.0)  # the per-epoch value; the log keeps one epoch per sample row


def test_upstream_judge_prompt_offline_without_the_file_fails_clearly(shared_mirror, tmp_path, monkeypatch):
    notes_only = build_mirror(tmp_path / "mirror", NOTES_SUBTREE)  # the notes, but none of HELM's files
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(notes_only))
    with pytest.raises(DataUnavailableError, match="stanford-crfm/helm"):
        mtsamples_procedures(judge_prompt="upstream")


def test_judge_cache_makes_a_rescore_free(shared_mirror, tmp_path):
    calls = []

    def grader(input, tools, tool_choice, config):
        calls.append(hashlib.sha256(input[-1].text.encode()).hexdigest())
        return ModelOutput.from_content(M, ratings(2, 2, 2))

    g = get_model(M, custom_outputs=grader, memoize=False)
    run(mtsamples_procedures(), tmp_path / "a", g, limit=1)
    run(mtsamples_procedures(), tmp_path / "b", g, limit=1)
    assert len(calls) == 1


def test_upstream_judge_prompt_is_read_from_the_pinned_file_and_filled_literally(shared_mirror, tmp_path, monkeypatch):
    import dataclasses

    from medarc_inspect import mtsamples

    template = 'Note: {QUESTION}\nAnswer: {RESPONSE}\nGold: {GOLD_RESPONSE}\nReply {"accuracy": {"score": 1}} etc.'
    source = f"OTHER = 1\nPROMPT_TEMPLATE = {template!r}\n"
    path = "src/helm/benchmark/annotation/fake_annotator.py"
    mirror = build_mirror(tmp_path / "mirror", NOTES_SUBTREE)  # the real notes, and our fake HELM file
    target = mirror / "raw.githubusercontent.com/stanford-crfm/helm" / mtsamples.HELM_COMMIT / path
    target.parent.mkdir(parents=True)
    target.write_text(source)
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(mirror))
    variant = dataclasses.replace(
        mtsamples.PROCEDURES, helm_annotator=(path, hashlib.sha256(source.encode()).hexdigest())
    )
    monkeypatch.setattr(mtsamples, "PROCEDURES", variant)
    monkeypatch.setitem(
        mtsamples.HELM_TEMPLATE_SHA256, "mtsamples_procedures", hashlib.sha256(template.encode()).hexdigest()
    )
    prompts = []

    def grader(input, tools, tool_choice, config):
        prompts.append(input[-1].text)
        return ModelOutput.from_content(M, ratings(5, 5, 5))

    log = run(
        mtsamples.mtsamples_procedures(judge_prompt="upstream", judge_model=M),
        tmp_path / "logs",
        get_model(M, custom_outputs=grader, memoize=False),
        model=model_answering("Start aspirin."),
        limit=1,
    )
    sample = log.samples[0]
    assert prompts[0] == (
        f"Note: {sample.input}\nAnswer: Start aspirin.\nGold: {sample.target}\n"
        'Reply {"accuracy": {"score": 1}} etc.'
    )

    monkeypatch.setitem(mtsamples.HELM_TEMPLATE_SHA256, "mtsamples_procedures", "0" * 64)
    with pytest.raises(Exception, match="PROMPT_TEMPLATE"):
        mtsamples.mtsamples_procedures(judge_prompt="upstream", judge_model=M)


def test_judge_settings_default_to_helms_but_the_role_binding_wins(shared_mirror, tmp_path):
    from inspect_ai.model import GenerateConfig

    configs = []

    def grader(input, tools, tool_choice, config):
        configs.append(config)
        return ModelOutput.from_content(M, ratings(4, 4, 4))

    bound = get_model(M, custom_outputs=grader, config=GenerateConfig(temperature=0.7), memoize=False)
    run(mtsamples_procedures(), tmp_path, bound, limit=1)
    assert configs[0].temperature == 0.7 and configs[0].max_tokens == 4096


# --- the log names the judges that judged ------------------------------------------------------------------------
PROCEDURES_BY_PATH = f"{Path(mtsamples_module.__file__)}@mtsamples_procedures"  # how the CLI loads a file


def named_judge(name: str):
    return get_model(
        name, custom_outputs=itertools.repeat(ModelOutput.from_content(M, ratings(3, 3, 3))), memoize=False
    )


def test_a_role_bound_on_the_command_line_is_what_the_log_names(shared_mirror, tmp_path):
    # built by name inside the eval, as `inspect eval ... --model-role grader=...` does
    [log] = eval(
        PROCEDURES_BY_PATH,
        model=M,
        model_roles={"grader": [named_judge("mockllm/first"), named_judge("mockllm/second")]},
        limit=1,
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success", log.error
    judging = log.eval.metadata["judging"]
    assert judging["judges"] == ["mockllm/first", "mockllm/second"] and judging["source"] == "role"
    assert judging["judge_model"] == ["openai/gpt-4o-mini"]  # asked for, but not used
    assert judging["generate_config"][0] == {"temperature": 0.0, "max_tokens": 4096}
    score_judging = log.samples[0].scores["mtsamples_jury"].metadata["judging"]
    assert score_judging["judges"] == ["mockllm/first", "mockllm/second"]


def test_judge_model_is_what_the_log_names_without_a_role(shared_mirror, tmp_path):
    [log] = eval(
        PROCEDURES_BY_PATH,
        model=M,
        task_args={"judge_model": "medarc-mock/judge"},
        limit=1,
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success", log.error
    assert log.eval.metadata["judging"]["judges"] == ["medarc-mock/judge"]
    assert log.eval.metadata["judging"]["source"] == "judge_model"
    assert log.samples[0].scores["mtsamples_jury"].metadata["judging"]["judges"] == ["medarc-mock/judge"]


def test_a_role_bound_after_the_task_was_built_wins_and_each_score_names_it(shared_mirror, tmp_path):
    log = run(mtsamples_procedures(judge_model="mockllm/unused"), tmp_path, named_judge("mockllm/bound"), limit=1)
    judging = log.samples[0].scores["mtsamples_jury"].metadata["judging"]
    assert judging["judges"] == ["mockllm/bound"] and judging["source"] == "role"


# --- upstream-exact prompts, offline from the shared mirror ------------------------------------------------------
@pytest.mark.parametrize("task", ["mtsamples_procedures", "mtsamples_replicate"])
def test_upstream_prompts_work_offline_from_the_mirror(shared_mirror, tmp_path, task):
    from medarc_inspect.data import fetch_pinned, read_call_keywords

    variant = PROCEDURES if task == "mtsamples_procedures" else REPLICATE
    template = mtsamples_module.judge_template(variant, "upstream")
    assert hashlib.sha256(template.encode()).hexdigest() == mtsamples_module.HELM_TEMPLATE_SHA256[task]
    spec = fetch_pinned(
        mtsamples_module.helm_url(mtsamples_module.HELM_RUN_SPECS[0]), mtsamples_module.HELM_RUN_SPECS[1]
    )
    keywords = read_call_keywords(spec, variant.helm_spec_function, "get_generation_adapter_spec")
    prompts = []

    def grader(input, tools, tool_choice, config):
        prompts.append(input[-1].text)
        return ModelOutput.from_content(M, ratings(4, 4, 4))

    build = mtsamples_procedures if task == "mtsamples_procedures" else mtsamples_replicate
    log = run(
        build(judge_prompt="upstream", instruction="upstream"),
        tmp_path,
        get_model(M, custom_outputs=grader, memoize=False),
        model=model_answering("ANSWER {GOLD_RESPONSE} $RESPONSE"),
        limit=1,
    )
    sample = log.samples[0]
    user = sample.messages[0].text
    assert user.startswith(keywords["instructions"]) and user.endswith(f"\n{keywords['output_noun']}:")
    prompt = prompts[0]
    for slot, text in (("QUESTION", sample.input), ("RESPONSE", "ANSWER {GOLD_RESPONSE} $RESPONSE")):
        before, after = template.split(f"{{{slot}}}")[0][-40:], template.split(f"{{{slot}}}")[1][:40]
        assert f"{before}{text}{after}" in prompt, slot  # each text in its own slot, HELM's order
    before = template.split("{GOLD_RESPONSE}")[0][-40:]
    assert f"{before}{sample.target}" in prompt and prompt.count(sample.target) == 1 + sample.input.count(sample.target)
    assert sample.scores["mtsamples_jury"].value["score_raw"] == 4.0
