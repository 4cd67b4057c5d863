import json

import pytest
from inspect_ai import eval

from medarc_inspect.data import DataError
from medarc_inspect.healthbench import healthbench_meta_eval
from medarc_inspect.healthbench.meta_eval import agreement, majority_macro_f1, pairwise_macro_f1, physician_macro_f1
from tests.healthbench.fixtures import grader, verdict

ROWS = [  # hand-computed case (see test below)
    {"binary_labels": [True, True, False], "physician_ids": ["a", "b", "c"], "category": "cluster:x"},
    {"binary_labels": [False, False], "physician_ids": ["a", "b"], "category": "cluster:x"},
    {"binary_labels": [True, False], "physician_ids": ["a", "c"], "category": "cluster:y"},
]
GRADER = [True, False, False]


def test_pairwise_macro_f1_by_hand():
    # grader-pos pairs agree 2/3, grader-neg 3/4; physician-pos pairs 2/3, physician-neg 3/4
    # F1 pos = 2/3, F1 neg = 3/4 -> macro 17/24
    assert pairwise_macro_f1(GRADER, [r["binary_labels"] for r in ROWS]) == pytest.approx(17 / 24)


def test_majority_macro_f1_by_hand():
    # majorities T, F, F (1 of 2 is no majority) -> the grader matches all three
    assert majority_macro_f1(GRADER, [r["binary_labels"] for r in ROWS]) == 1.0


def test_physician_leave_one_out_baseline_by_hand():
    # a: F1 pos 1/2, neg 1/2 -> 0.5; b: 2/3 and 2/3; c never says true -> undefined, left out
    assert physician_macro_f1(ROWS) == pytest.approx((0.5 + 2 / 3) / 2)


def test_agreement_per_category():
    result = agreement(ROWS, GRADER)
    assert result["macro_f1"] == pytest.approx(17 / 24) and result["n_samples"] == 3
    assert "cluster:x:macro_f1" in result and "cluster:x:macro_f1_majority" in result


def test_rows_without_a_model_verdict_still_count_for_the_physician_baseline():
    result = agreement(ROWS, [True, None, False])
    assert result["physician_macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)  # all three rows, as without gaps
    assert result["n_samples"] == 2
    # the model's figures use rows 1 and 3 only: precision and recall 2/3 (pos) and 1/2 (neg) -> (2/3 + 1/2) / 2
    assert result["macro_f1"] == pytest.approx(7 / 12)


def meta_row(i: int, labels: list[bool]) -> dict:
    return {
        "prompt": [{"role": "user", "content": f"q{i}"}],
        "completion": f"answer {i}",
        "rubric": f"Mentions point {i}",
        "binary_labels": labels,
        "anonymized_physician_ids": [f"p{j}" for j in range(len(labels))],
        "category": "cluster:emergency_referrals_emergent_emergency_behavior",
        "prompt_id": f"pid{i}",
        "completion_id": f"cid{i}",
    }


def test_meta_eval_task_end_to_end(tmp_path):
    path = tmp_path / "meta.jsonl"
    rows = [meta_row(0, [True, True, False]), meta_row(1, [False, False]), meta_row(2, [True, False])]
    rows[2]["binary_labels"] = json.dumps(rows[2]["binary_labels"])  # stringified lists are accepted
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seen: list[str] = []
    judge = grader(lambda p: "junk" if "point 1" in p and len(seen) < 3 else verdict("point 0" in p), seen)
    [log] = eval(healthbench_meta_eval(local_path=str(path)), model=judge, display="none")
    assert log.status == "success", log.error
    result = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert result["macro_f1"] == pytest.approx(17 / 24)
    assert result["macro_f1_majority"] == 1.0
    assert result["meta_grader_failures"] == 0
    assert "answer 0" in seen[0] and "Mentions point 0" in seen[0] and "[" + "1] Mentions" not in seen[0]


def test_meta_eval_epochs_compare_every_repeat(tmp_path):
    path = tmp_path / "meta.jsonl"
    path.write_text("".join(json.dumps(meta_row(i, [True, False])) + "\n" for i in range(2)))
    judge = grader(lambda p: verdict("point 0" in p))
    [log] = eval(healthbench_meta_eval(local_path=str(path)), model=judge, display="none", epochs=3)
    assert log.status == "success", log.error
    result = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert result["n_samples"] == 6  # 2 rows x 3 repeats, each verdict its own example
    # each repeat: row 0 T vs [T, F], row 1 F vs [T, F] -> pos pairs 1/2, neg 1/2 -> F1 1/2 each
    assert result["macro_f1"] == pytest.approx(0.5)


def test_malformed_meta_row_names_the_line(tmp_path):
    path = tmp_path / "meta.jsonl"
    bad = meta_row(1, [True])
    bad["anonymized_physician_ids"] = []
    path.write_text(json.dumps(meta_row(0, [True])) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match="line 2: 'anonymized_physician_ids'"):
        healthbench_meta_eval(local_path=str(path))
