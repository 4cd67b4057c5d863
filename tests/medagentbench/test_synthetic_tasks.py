"""MedAgentBench task files: pinned loading, row validation, per-task NOW and manifest keys."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from medarc_inspect.data import DataError
from medarc_inspect.medagentbench import task_files
from medarc_inspect.medagentbench.task_files import load_task_file, manifest_key, task_now

MIRROR = Path(__file__).resolve().parents[3] / "shared" / "mirror"


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"offline mirror not found at {MIRROR}")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(MIRROR))
    monkeypatch.setenv("MEDARC_INSPECT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    return MIRROR


def test_pinned_files_load_with_expected_shapes(mirror: Path) -> None:
    v1 = load_task_file("v1", "test_data_v2.json")
    v1_small = load_task_file("v1", "test_data_v1.json")
    v2 = load_task_file("v2", "new_patient_tasks.json")
    v2_new = load_task_file("v2", "new_tasks.json")
    assert (len(v1), len(v1_small), len(v2), len(v2_new)) == (300, 100, 300, 10)
    assert len({t["eval_MRN"] for t in v1 if "eval_MRN" in t}) == 98
    assert {t["eval_MRN"] for t in v1 if "eval_MRN" in t} == {t["eval_MRN"] for t in v2}
    assert {t["eval_MRN"] for t in v2_new} == {"S6315806", "S6474456"}
    assert all(t["context"] == "" for t in v2_new)  # the file has no context key
    assert load_task_file("v2", "test_data_v2.json") == v1
    not_found = [t for t in v1 if "eval_MRN" not in t]
    assert [t["id"] for t in not_found] == ["task1_29", "task1_30"]
    assert all(t["sol"] == ["Patient not found"] for t in not_found)


def test_unknown_file_is_a_clear_error(mirror: Path) -> None:
    with pytest.raises(DataError, match="Unknown MedAgentBench task file v1/funcs"):
        load_task_file("v1", "funcs_v1.json")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"id": "task1_1"}, "non-empty JSON list"),
        ([{"id": "taskX_1", "instruction": "x"}], "no valid id"),
        ([{"id": "task2_1", "instruction": "", "eval_MRN": "S1234567"}], "needs a string 'instruction'"),
        ([{"id": "task2_1", "instruction": "x", "context": 3, "eval_MRN": "S1234567"}], "'context'"),
        ([{"id": "task2_1", "instruction": "x", "eval_MRN": "12"}], "invalid 'eval_MRN'"),
        ([{"id": "task2_1", "instruction": "x"}], "no 'eval_MRN'"),
        ([{"id": "task1_1", "instruction": "x", "sol": "S1234567", "eval_MRN": "S1234567"}], "'sol'"),
        ([{"id": "task2_1", "instruction": "x", "eval_MRN": "S1234567"}] * 2, "repeats task ids"),
    ],
)
def test_malformed_rows_raise_one_readable_error(
    rows: object, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    monkeypatch.setattr(task_files, "fetch_pinned", lambda url, sha256: path)
    with pytest.raises(DataError, match=message):
        load_task_file("v2", "new_tasks.json")


def test_invalid_json_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    path.write_text("[{", encoding="utf-8")
    monkeypatch.setattr(task_files, "fetch_pinned", lambda url, sha256: path)
    with pytest.raises(DataError, match="not valid UTF-8 JSON"):
        load_task_file("v2", "new_tasks.json")


def _iso(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_task_now_rules() -> None:
    assert task_now({"context": "It's 2020-01-01T00:00:00+00:00 now"}, "v1") == _iso("2023-11-13T10:15:00+00:00")
    v2 = {"context": "At 2021-01-01T00:00:00+00:00. It's 2022-02-02T02:02:00+00:00 now. Then 2023-01-01T00:00:00+00:00"}
    assert task_now(v2, "v2") == _iso("2022-02-02T02:02:00+00:00")
    last = {"context": "a 2021-01-01T00:00:00+00:00 b 2021-06-01T05:00:00-07:00 c"}
    assert task_now(last, "v2") == _iso("2021-06-01T05:00:00-07:00")
    assert task_now({"context": "It's 2023-08-15:00:00+00:00 now"}, "v2") == _iso("2023-11-07T22:47:00+00:00")
    assert task_now({"context": "It's 2023-13-45T00:00:00+00:00 now"}, "v2") == _iso("2023-11-07T22:47:00+00:00")
    assert task_now({"instruction": "It's 2020-01-01T00:00:00+00:00 now"}, "v2") == _iso("2023-11-07T22:47:00+00:00")
    with pytest.raises(ValueError, match="v1' or 'v2"):
        task_now({}, "v3")  # type: ignore[arg-type]


def test_task_now_counts_on_the_real_v2_file(mirror: Path) -> None:
    tasks = load_task_file("v2", "new_patient_tasks.json")
    nows = {t["id"]: task_now(t, "v2") for t in tasks}
    by_type: dict[str, Counter] = {}
    for task_id, now in nows.items():
        by_type.setdefault(task_id.split("_")[0], Counter())[now.isoformat()[:16]] += 1
    default = "2023-11-07T22:47"
    for kind in ("task1", "task2", "task5", "task6", "task7", "task8"):
        assert by_type[kind] == Counter({default: 30})
    assert by_type["task3"][default] == 12  # 11 stated + task3_19's malformed stamp
    assert nows["task3_19"].isoformat() == "2023-11-07T22:47:00+00:00"
    singles = [
        "2020-05-12T11:42", "2020-10-26T00:35", "2020-11-19T20:30", "2021-03-02T10:00", "2021-11-11T18:47",
        "2022-11-20T14:30", "2023-02-08T22:00", "2023-04-25T21:41", "2023-05-14T18:40", "2023-07-07T20:00",
        "2023-10-25T14:00", "2023-11-06T18:00", "2023-11-07T22:00", "2023-11-09T22:00", "2023-11-11T23:07",
        "2023-11-12T16:00", "2023-11-13T02:01", "2023-11-13T12:00",
    ]  # fmt: skip
    assert by_type["task3"] == Counter({default: 12, **dict.fromkeys(singles, 1)})
    assert by_type["task4"] == Counter({"2023-11-11T09:00": 28, "2023-11-16T10:00": 1, "2022-05-30T07:00": 1})
    assert nows["task4_1"].isoformat().startswith("2023-11-16T10:00")
    assert nows["task4_2"].isoformat().startswith("2022-05-30T07:00")
    assert by_type["task9"] == Counter({"2024-01-09T00:00": 30})
    assert by_type["task10"] == Counter({"2023-11-07T12:00": 30})
    new_tasks = load_task_file("v2", "new_tasks.json")
    assert {task_now(t, "v2").isoformat() for t in new_tasks} == {"2023-11-07T22:47:00+00:00"}


def test_manifest_keys() -> None:
    assert manifest_key("v1", "test_data_v2.json", "task4_3") == "v1/task4_3"
    assert manifest_key("v1", "test_data_v1.json", "task4_3") == "v1/task4_3"
    assert manifest_key("v1", "test_data_v1.json", "task1_9") == "v1/test_data_v1/task1_9"
    assert manifest_key("v2", "new_patient_tasks.json", "task1_1") == "v2/task1_1"
    assert manifest_key("v2", "new_tasks.json", "task1_1") == "v2/new_tasks/task1_1"
    assert manifest_key("v2", "test_data_v2.json", "task7_2") == "v1/task7_2"
