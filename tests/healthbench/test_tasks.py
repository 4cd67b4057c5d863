import itertools
import math
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.model import ModelOutput, get_model

from medarc_inspect.errors import UserFacingError
from medarc_inspect.healthbench import healthbench, healthbench_hard
from tests.healthbench.fixtures import (
    MULTI_TURN,
    NEGATIVE,
    NEGATIVE_MET,
    WORKED,
    WORKED_MET,
    M,
    grader,
    rubric_grader,
    verdict,
    write_jsonl,
)


def run(task, graders, **kwargs):
    [log] = eval(task, model=M, model_roles={"grader": graders}, display="none", **kwargs)
    assert log.status == "success", log.error
    return log


def metrics(log) -> dict[str, float]:
    return {k: v.value for k, v in log.results.scores[0].metrics.items()}


@pytest.fixture
def rows(tmp_path):
    return str(write_jsonl(tmp_path / "rows.jsonl", [WORKED, NEGATIVE]))


def test_worked_examples_end_to_end(rows):
    log = run(healthbench(judge_model=M, local_path=rows, judge_cache=False), rubric_grader(WORKED_MET | NEGATIVE_MET))
    by_id = {s.id: s.scores["rubric_grader"] for s in log.samples}
    worked, negative = by_id["worked"].value, by_id["negative"].value
    assert worked["overall_score"] == pytest.approx(0.5)
    assert worked["axis:accuracy"] == pytest.approx(1 / 7)
    assert worked["axis:completeness"] == pytest.approx(10 / 15)
    assert "axis:communication_quality" not in worked
    assert negative["overall_score"] == pytest.approx(-2.0)  # kept unclipped per sample
    result = metrics(log)
    assert result["score"] == 0.0  # clip(mean(0.5, -2.0))
    assert result["score:n_samples"] == 2
    assert result["grader_failures"] == 0 and result["unscored"] == 0
    assert result["grader_calls"] == 7
    assert result["physician_agreed_category:emergent"] == pytest.approx(0.5)
    assert "length_adjusted_score" in result
    criteria = by_id["worked"].metadata["criteria"]
    assert [c["met"] for c in criteria] == [1.0, 0.0, 1.0, 1.0, 0.0]


def test_invalid_json_is_re_asked_with_a_fresh_sample(rows):
    replies = itertools.chain(["not json", '{"criteria_met": "yes"}'], itertools.repeat(verdict(True)))
    judge = grader(lambda prompt: next(replies))
    log = run(healthbench(judge_model=M, local_path=rows, judge_max_retries=4), judge, max_samples=1)
    result = metrics(log)
    assert result["grader_failures"] == 0 and result["grader_calls"] == 9  # 7 criteria + 2 re-asks
    assert log.stats.model_usage["mockllm/model"]  # grader usage is recorded by Inspect per model and role
    assert "grader" in log.stats.role_usage


def test_a_grader_that_never_answers_validly_fails_counted_and_unscored(rows):
    judge = grader(lambda prompt: '{"criteria_met": "yes"}')
    log = run(healthbench(judge_model=M, local_path=rows, judge_max_retries=2, judge_cache=False), judge)
    result = metrics(log)
    assert result["grader_failures"] == 7 and result["unscored"] == 2
    assert result["grader_calls"] == 21
    for sample in log.samples:
        score = sample.scores["rubric_grader"]
        assert math.isnan(score.value["overall_score"])
        assert all(c["met"] is None for c in score.metadata["criteria"])  # never a silent false
        assert all(v["criteria_met"] is None for c in score.metadata["criteria"] for v in c["verdicts"])
        assert score.metadata["criteria"][0]["verdicts"][0]["replies"] == ['{"criteria_met": "yes"}'] * 3


def test_epochs_are_the_references_repeats_each_one_an_example(rows):
    log = run(
        healthbench(judge_model=M, local_path=rows, judge_cache=False),
        rubric_grader(WORKED_MET | NEGATIVE_MET),
        epochs=2,
    )
    result = metrics(log)
    assert log.eval.config.epochs_reducer == ["healthbench_epochs"]
    assert result["score:n_samples"] == 4  # 2 conversations x 2 repeats, as the reference counts them
    assert result["physician_agreed_category:emergent:n_samples"] == 2  # only WORKED has that tag
    assert result["physician_agreed_category:emergent"] == pytest.approx(0.5)
    assert result["grader_calls"] == 14  # every epoch's calls, not their mean


def test_each_epoch_asks_the_grader_afresh_even_for_the_same_answer_and_a_warm_cache(tmp_path):
    path = str(write_jsonl(tmp_path / "rows.jsonl", [MULTI_TURN]))
    seen: list[str] = []
    task = healthbench(judge_model=M, local_path=path, run_mode="physician_completions", physician_group=2)
    log = run(task, rubric_grader({"CRIT-H"}, seen), epochs=3)  # judge_cache on (the default)
    assert len(seen) == 3 and metrics(log)["score:n_samples"] == 3


def test_with_epochs_every_failed_verdict_is_still_counted(rows):
    judge = grader(lambda prompt: '{"criteria_met": "yes"}')
    log = run(healthbench(judge_model=M, local_path=rows, judge_max_retries=1, judge_cache=False), judge, epochs=2)
    result = metrics(log)
    assert result["grader_failures"] == 14 and result["grader_calls"] == 28 and result["unscored"] == 4
    assert "score" not in result  # nothing scored: no headline at all, never a silent 0


def test_unbounded_retries_keep_asking_until_a_verdict(tmp_path):
    path = str(write_jsonl(tmp_path / "rows.jsonl", [NEGATIVE]))
    replies = itertools.chain(["nope"] * 9, itertools.repeat(verdict(False)))
    log = run(
        healthbench(judge_model=M, local_path=path, judge_max_retries=None),
        grader(lambda p: next(replies)),
        max_samples=1,
    )
    result = metrics(log)
    assert result["grader_failures"] == 0 and result["grader_calls"] == 11


def test_several_judges_average_points_per_criterion(tmp_path):
    path = str(write_jsonl(tmp_path / "rows.jsonl", [WORKED]))
    strict = rubric_grader({"CRIT-A", "CRIT-C"})
    lenient = rubric_grader({"CRIT-A", "CRIT-B", "CRIT-C", "CRIT-D"})
    log = run(healthbench(judge_model=M, local_path=path, judge_cache=False), [strict, lenient])
    value = log.samples[0].scores["rubric_grader"].value
    # A 7 (both) + B 5 x 1/2 + C 10 (both) + D -6 x 1/2 = 16.5 of 22
    assert value["overall_score"] == pytest.approx(16.5 / 22)
    assert metrics(log)["grader_calls"] == 10


def test_the_grader_sees_the_system_message_and_every_turn(tmp_path):
    path = str(write_jsonl(tmp_path / "rows.jsonl", [MULTI_TURN]))
    seen: list[str] = []
    model = get_model(M, custom_outputs=itertools.repeat(ModelOutput.from_content(M, "Model answer")))
    task = healthbench(judge_model=M, local_path=path, system_prompt="Be careful.", judge_cache=False)
    [log] = eval(task, model=model, model_roles={"grader": rubric_grader(set(), seen)}, display="none")
    assert log.status == "success", log.error
    expected = (
        "system: Be careful.\n\nuser: First question\n\nassistant: First answer\n\nuser: Follow-up question"
        "\n\nassistant: Model answer"
    )
    assert len(seen) == 1 and expected in seen[0] and "[4] CRIT-H four" in seen[0]


def test_physician_completions_are_graded_without_a_model_call(tmp_path):
    path = str(write_jsonl(tmp_path / "rows.jsonl", [WORKED, MULTI_TURN]))
    seen: list[str] = []
    task = healthbench(
        judge_model=M,
        local_path=path,
        run_mode="physician_completion_references",
        physician_group=2,
        judge_cache=False,
    )
    log = run(task, rubric_grader({"CRIT-H"}, seen))
    assert [s.id for s in log.samples] == [f"multi:ref{i}" for i in range(1, 5)]
    assert "assistant: ref one" in "".join(seen) and "system:" not in "".join(seen)
    assert metrics(log)["score"] == 1.0
    assert not log.stats.model_usage.get(M) or "grader" in log.stats.role_usage


def test_medarc_mock_judge_end_to_end(rows):
    log = run(healthbench(judge_model=M, local_path=rows), "medarc-mock/judge")
    assert 0 <= metrics(log)["score"] <= 1 and metrics(log)["grader_failures"] == 0
    assert log.eval.metadata["data"]["sha256"] and log.eval.metadata["grader"]["judge_prompt"] == "builtin"
    judging = log.samples[0].scores["rubric_grader"].metadata["judging"]
    assert judging["judges"] == ["medarc-mock/judge"] and judging["source"] == "role"
    assert judging["generate_config"][0]["temperature"] == 0.5


REGISTRY_SCRIPT = """
import sys
from inspect_ai import eval
logs = eval("medarc_inspect/healthbench", model="mockllm/model", model_roles={"grader": "medarc-mock/judge"},
            task_args={"local_path": sys.argv[1]}, display="none", log_dir=sys.argv[2])
print([(log.status, log.eval.task_registry_name) for log in logs])
"""


def test_registry_name_runs_only_healthbench_from_the_project_root(rows, tmp_path):
    """From the root, medarc_inspect/healthbench is also a folder: the registry name must still win."""
    script = tmp_path / "run.py"
    script.write_text(REGISTRY_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script), rows, str(tmp_path / "logs")], cwd=root, capture_output=True, text=True
    )
    assert done.stdout.strip() == "[('success', 'medarc_inspect/healthbench')]", done.stderr[-2000:]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"subset": "easy"}, "-T subset='easy' is invalid"),
        ({"judge_max_retries": -1}, "-T judge_max_retries=-1 is invalid"),
        ({"judge_prompt": "mine"}, "-T judge_prompt='mine' is invalid"),
        ({"run_mode": "physician_completion_references", "physician_group": 1}, "physician_group=1"),
        ({"run_mode": "physician_completions"}, "needs -T physician_group=1, 2 or 3 (one group per run)"),
        ({"physician_group": 2}, "only with a physician run_mode"),
        ({"bootstrap_samples": 0}, "bootstrap_samples=0"),
        ({"judge_cache": "soon"}, "judge_cache='soon'"),
    ],
)
def test_task_args_are_checked_before_any_call(rows, kwargs, message):
    with pytest.raises(UserFacingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        healthbench(judge_model=M, local_path=rows, **kwargs)


def test_hard_without_a_pin_asks_for_local_path(monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    with pytest.raises(UserFacingError, match="local_path"):
        healthbench_hard(judge_model=M)


def test_price_file_gives_inspect_cost_for_the_grader(rows):
    import yaml
    from inspect_ai.model import ModelCost, ModelInfo, set_model_info

    prices = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "healthbench_prices.yaml").read_text())
    assert all(ModelCost(**cost) for cost in prices.values())
    set_model_info("medarc-mock/judge", ModelInfo())  # the offline judge is not in Inspect's model database
    costs = {"medarc-mock/judge": ModelCost(**prices["openai/gpt-4.1-2025-04-14"])}
    [log] = eval(
        healthbench(judge_model=M, local_path=rows, judge_cache=False),
        model=M,
        model_roles={"grader": "medarc-mock/judge"},
        model_cost_config=costs,
        display="none",
    )
    usage = log.stats.model_usage["medarc-mock/judge"]
    expected = (usage.input_tokens * 2.0 + usage.output_tokens * 8.0) / 1e6
    assert usage.total_cost == pytest.approx(expected)
