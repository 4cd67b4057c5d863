"""Task rows -> Inspect samples: id = task id, metadata = type, query/action, MRN, the "now" used, the branch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from inspect_ai.dataset import MemoryDataset, Sample

from medarc_inspect.medagentbench import graders_v1, graders_v2
from medarc_inspect.medagentbench.task_files import load_task_file, load_tasks_path, manifest_key, task_now, task_type

TASK_TYPES = tuple(f"task{n}" for n in range(1, 11))
V2_VARIANTS = {
    "new_patient_tasks": "new_patient_tasks.json",
    "new_tasks": "new_tasks.json",
    "test_data_v2": "test_data_v2.json",
}
V1_FILES = {"test_data_v2": "test_data_v2.json", "test_data_v1": "test_data_v1.json"}
WALL_CLOCK = "wall_clock"


@dataclass(frozen=True)
class TaskSet:
    """Which rows to load and how to grade them."""

    version: str  # the file's version: "v1" or "v2"
    file_name: str | None  # a pinned file, or None for tasks_path
    path: str | None = None
    logic: str = "v2"  # grader logic: "v1" or "v2" (v2's test_data_v2 is graded with v1 logic)


def load_rows(task_set: TaskSet) -> list[dict]:
    if task_set.path is not None:
        return load_tasks_path(Path(task_set.path))
    assert task_set.file_name is not None
    return load_task_file(task_set.version, task_set.file_name)


def category(logic: str, kind: str) -> str:
    queries = graders_v1.QUERY_TYPES if logic == "v1" else graders_v2.QUERY_TYPES
    return "query" if kind in queries else "action"


def samples(
    task_set: TaskSet,
    task_types: list[str],
    render: Callable[[dict], str],
    branches: dict[str, dict] | None,
    task1_now: str,
) -> MemoryDataset:
    """One sample per row whose type is selected (exact match on `id.split('_')[0]`)."""
    out = []
    for row in load_rows(task_set):
        kind = task_type(row)
        if kind not in task_types:
            continue
        now: datetime | None = task_now(row, task_set.logic)  # type: ignore[arg-type]
        shown_now = now.isoformat() if now else ""
        if task_set.logic == "v2" and kind == "task1" and task1_now == WALL_CLOCK:
            shown_now = WALL_CLOCK
        entry = None
        if branches is not None and task_set.file_name is not None:
            version = "v1" if task_set.logic == "v1" else task_set.version
            entry = branches.get(manifest_key(version, task_set.file_name, row["id"]))
        out.append(
            Sample(
                id=row["id"],
                input=render(row),
                metadata={
                    "task_type": kind,
                    "category": category(task_set.logic, kind),
                    "mrn": row.get("eval_MRN"),
                    "now": shown_now,
                    "branch": entry["branch"] if entry else None,
                    "logic": task_set.logic,
                    "task": row,
                },
            )
        )
    return MemoryDataset(out)
