import json
from pathlib import Path

import pytest

from medarc_inspect.data import DataError, DataUnavailableError
from medarc_inspect.healthbench.dataset import FILES, load_examples, pins, resolve_file
from tests.healthbench.fixtures import MULTI_TURN, NEGATIVE, WORKED, item, row, write_jsonl

REAL_ROWS = Path(__file__).resolve().parents[3] / "shared" / "data" / "healthbench" / "healthbench_500.jsonl"


def load(path: Path, **kwargs):
    return load_examples(resolve_file("full", str(path)), **kwargs)


def test_rows_become_samples_with_prompt_id_and_the_conversation_as_is(tmp_path):
    dataset = load(write_jsonl(tmp_path / "rows.jsonl", [WORKED, MULTI_TURN]))
    assert [s.id for s in dataset] == ["worked", "multi"]
    multi = dataset[1]
    assert [m.role for m in multi.input] == ["user", "assistant", "user"]
    assert multi.metadata["rubrics"] == MULTI_TURN["rubrics"]
    assert multi.metadata["example_tags"] == ["theme:context_seeking"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.pop("prompt_id"), "'prompt_id' must be a non-empty string"),
        (lambda r: r.update(prompt=[{"role": "assistant", "content": "x"}]), "must end with a user message"),
        (lambda r: r.update(prompt=[{"role": "robot", "content": "x"}]), "prompt[0]"),
        (lambda r: r["rubrics"][0].update(points="7"), "rubrics[0].points must be a number"),
        (lambda r: r["rubrics"][1].update(tags=["axis:a", "axis:a"]), "rubrics[1].tags repeats a tag"),
        (lambda r: r.update(rubrics=[item("only negative", -3)]), "no rubric item has positive points"),
        (lambda r: r.update(example_tags="theme:hedging"), "'example_tags' must be a list"),
    ],
)
def test_a_malformed_row_names_the_file_and_line(tmp_path, change, message):
    bad = json.loads(json.dumps(NEGATIVE))
    change(bad)
    path = write_jsonl(tmp_path / "rows.jsonl", [WORKED, bad])
    with pytest.raises(DataError) as error:
        load(path)
    assert f"{path}, line 2: " in str(error.value) and message in str(error.value)


def test_invalid_json_and_repeated_ids_are_errors(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(WORKED) + "\n{not json\n")
    with pytest.raises(DataError, match="line 2: not valid JSON"):
        load(path)
    write_jsonl(path, [WORKED, NEGATIVE, WORKED])
    with pytest.raises(DataError, match="line 3: prompt_id 'worked' repeats line 1"):
        load(path)


def test_missing_local_file_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        resolve_file("full", str(tmp_path / "absent.jsonl"))


def test_pinned_download_refuses_clearly_offline(monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    assert FILES["full"] in pins()
    with pytest.raises(DataUnavailableError, match="MEDARC_INSPECT_OFFLINE is set"):
        resolve_file("full", None)
    with pytest.raises(DataError, match="no sha256 pin is known.*local_path"):
        resolve_file("hard", None)


def test_local_file_provenance_records_its_sha256(tmp_path):
    file = resolve_file("full", str(write_jsonl(tmp_path / "rows.jsonl", [WORKED])))
    assert len(file.provenance()["sha256"]) == 64 and file.provenance()["source"].startswith("local file")


def test_physician_modes(tmp_path):
    group1 = row("g1", [item("x", 1)], ideal={"ideal_completion": "doc", "ideal_completions_group": "Group 1"})
    path = write_jsonl(tmp_path / "rows.jsonl", [WORKED, MULTI_TURN, group1])
    completions = load(path, run_mode="physician_completions")
    assert [(s.id, s.metadata["completion"]) for s in completions] == [("multi", "A physician's answer"), ("g1", "doc")]
    only_1 = load(path, run_mode="physician_completions", groups=(1,))
    assert [s.id for s in only_1] == ["g1"]
    refs = load(path, run_mode="physician_completion_references", groups=(2, 3))
    assert [s.id for s in refs] == [f"multi:ref{i}" for i in range(1, 5)]
    assert refs[3].metadata["completion"] == "ref four"


def test_subsample_is_the_references_random_0_draw(tmp_path):
    rows = [row(f"id{i}", [item("x", 1)]) for i in range(30)]
    path = write_jsonl(tmp_path / "rows.jsonl", rows)
    import random

    expected = [r["prompt_id"] for r in random.Random(0).sample(rows, 5)]
    assert [s.id for s in load(path, num_examples=5)] == expected


def test_the_500_real_rows_load(tmp_path):
    if not REAL_ROWS.is_file():
        pytest.skip("shared/data/healthbench is not here")
    dataset = load(REAL_ROWS)
    assert len(dataset) == 500
    assert sum(len(s.metadata["rubrics"]) for s in dataset) == 5965
    assert sum(len(s.input) > 1 for s in dataset) == 213
