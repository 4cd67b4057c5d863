"""MedAgentBench task files (pinned by sha256), their loader, per-task NOW and manifest keys.

The MedAgentBench task reuses ``load_task_file`` and ``task_now``; the synthetic EHR generator uses them
to find every MRN, name and birth date the tasks refer to.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from medarc_inspect.data import DataError, fetch_pinned

Version = Literal["v1", "v2"]

V1_BASE = (
    "https://raw.githubusercontent.com/stanfordmlgroup/MedAgentBench/"
    "99260117137b09f04837a8c18d18a1107efa55ae/data/medagentbench/"
)
V2_BASE = (
    "https://raw.githubusercontent.com/ericoericochen/medagentbenchv2/main/"
    "medagentbench_v2/src/MedAgentBench/data/medagentbench/"
)

#: (version, file name) -> (url, sha256). v2's ``test_data_v2.json`` is byte-identical to v1's.
TASK_FILES: dict[tuple[str, str], tuple[str, str]] = {
    ("v1", "test_data_v2.json"): (
        V1_BASE + "test_data_v2.json",
        "b6e89b2ef82f1bef27c5778a644a8a66c7b25738bbd6a48d03ab3e5182df6ca8",
    ),
    ("v1", "test_data_v1.json"): (
        V1_BASE + "test_data_v1.json",
        "b539a3dece8cf2fe0518bbfe76e47dec53e3676755c9bb6d87ff261b2aad856a",
    ),
    ("v2", "new_patient_tasks.json"): (
        V2_BASE + "new_patient_tasks.json",
        "c1645ea5415b808fc3b2f0ba819dca85eff50eddf85a0863c515f7fe876b0d37",
    ),
    ("v2", "new_tasks.json"): (
        V2_BASE + "new_tasks.json",
        "77948513af899144e4ae7189aa1898e06bc421a6f511da7af2ae0281d0c9f47e",
    ),
    ("v2", "test_data_v2.json"): (
        V2_BASE + "test_data_v2.json",
        "b6e89b2ef82f1bef27c5778a644a8a66c7b25738bbd6a48d03ab3e5182df6ca8",
    ),
}

#: The file each version's manifest keys default to (keys "v1/<id>" and "v2/<id>").
DEFAULT_TASK_FILE: dict[str, str] = {"v1": "test_data_v2.json", "v2": "new_patient_tasks.json"}

V1_NOW = datetime.fromisoformat("2023-11-13T10:15:00+00:00")
V2_DEFAULT_NOW = datetime.fromisoformat("2023-11-07T22:47:00+00:00")

_ID_RE = re.compile(r"task([1-9]|10)_[1-9][0-9]*")
_MRN_RE = re.compile(r"S[0-9]{7}")
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2}"
_NOW_PRIMARY_RE = re.compile(r"\bIt'?s\s+(" + _ISO + r")\s*now\b", re.IGNORECASE)
_ISO_RE = re.compile(_ISO)
MAX_TASKS_PER_FILE = 10_000


def task_type(task: dict) -> str:
    """The grader key of a task: ``"task4"`` for id ``"task4_12"``."""
    return str(task["id"]).split("_")[0]


def task_now(task: dict, version: Version) -> datetime:
    """The instant a task's grader treats as now (aware, UTC offset kept).

    v1: always 2023-11-13T10:15:00+00:00. v2: the first "It's <ISO+offset> now" in the context, else
    the last ISO timestamp with an offset in the context, else 2023-11-07T22:47:00+00:00; a timestamp
    Python cannot parse falls back to the default. Only ``context`` is read (``new_tasks`` has none,
    so all its tasks use the default).
    """
    if version == "v1":
        return V1_NOW
    if version != "v2":
        raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")
    context = task.get("context") or ""
    match = _NOW_PRIMARY_RE.search(context)
    stamp = match.group(1) if match else None
    if stamp is None:
        found = _ISO_RE.findall(context)
        stamp = found[-1] if found else None
    if stamp is not None:
        try:
            return datetime.fromisoformat(stamp)
        except ValueError:
            pass
    return V2_DEFAULT_NOW


#: v1 ``test_data_v1.json`` ids whose rows differ from the ``test_data_v2.json`` row with the same id
#: (the two "Patient not found" cases); its other 98 rows are identical to the 300-task file's.
V1_TEST_DATA_V1_OWN_IDS = frozenset({"task1_9", "task1_10"})


def manifest_key(version: str, file_name: str, task_id: str) -> str:
    """Manifest key of a task.

    ``"<version>/<id>"`` for the version's default file (v1 ``test_data_v2.json``, v2
    ``new_patient_tasks.json``) and for v1 ``test_data_v1.json`` rows identical to the default file's;
    ``"<version>/<file stem>/<id>"`` otherwise (``"v1/test_data_v1/task1_9"``, ``"v2/new_tasks/task4_1"``).
    v2's ``test_data_v2.json`` is v1's file (graded with v1 logic), so its keys are ``"v1/<id>"``.
    """
    if version == "v2" and file_name == "test_data_v2.json":
        version = "v1"
    if file_name == DEFAULT_TASK_FILE[version] or (
        version == "v1" and file_name == "test_data_v1.json" and task_id not in V1_TEST_DATA_V1_OWN_IDS
    ):
        return f"{version}/{task_id}"
    return f"{version}/{file_name.removesuffix('.json')}/{task_id}"


def load_task_file(version: str, name: str) -> list[dict]:
    """The validated task rows of a pinned MedAgentBench file (fetched via cache, mirror or network).

    Rows are returned as dicts with ``id``, ``instruction``, ``context`` (``""`` when the file has
    none), ``eval_MRN`` (absent only for v1 "Patient not found" tasks) and, for v1 task1, ``sol``.
    """
    pin = TASK_FILES.get((version, name))
    if pin is None:
        known = ", ".join(f"{v}/{n}" for v, n in TASK_FILES)
        raise DataError(f"Unknown MedAgentBench task file {version}/{name}; known files: {known}.")
    url, sha256 = pin
    path = fetch_pinned(url, sha256)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"MedAgentBench task file {path} is not valid UTF-8 JSON: {exc}.") from None
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_TASKS_PER_FILE:
        raise DataError(f"MedAgentBench task file {path} must be a non-empty JSON list of task objects.")
    tasks = [_validated(row, index, path.name) for index, row in enumerate(rows)]
    ids = [task["id"] for task in tasks]
    if len(set(ids)) != len(ids):
        raise DataError(f"MedAgentBench task file {path} repeats task ids.")
    return tasks


def _validated(row: object, index: int, file_name: str) -> dict:
    where = f"{file_name} row {index}"
    if not isinstance(row, dict):
        raise DataError(f"{where} is not a JSON object.")
    task_id = row.get("id")
    if not isinstance(task_id, str) or not _ID_RE.fullmatch(task_id):
        raise DataError(f"{where} has no valid id (expected 'task<1-10>_<k>'), got {task_id!r}.")
    where = f"{file_name} row {index} (id {task_id!r})"
    task: dict = {"id": task_id}
    for key in ("instruction", "context"):
        value = row.get(key, "" if key == "context" else None)
        if not isinstance(value, str) or (key == "instruction" and not value.strip()):
            raise DataError(f"{where} needs a string {key!r}, got {value!r}.")
        task[key] = value
    sol = row.get("sol")
    if sol is not None:
        if not isinstance(sol, list) or not all(isinstance(item, str) for item in sol):
            raise DataError(f"{where} has a 'sol' that is not a list of strings: {sol!r}.")
        task["sol"] = sol
    mrn = row.get("eval_MRN")
    if mrn is None:
        if sol != ["Patient not found"]:
            raise DataError(f"{where} has no 'eval_MRN' but is not a 'Patient not found' task.")
    elif not isinstance(mrn, str) or not _MRN_RE.fullmatch(mrn):
        raise DataError(f"{where} has an invalid 'eval_MRN' {mrn!r} (expected S + 7 digits).")
    else:
        task["eval_MRN"] = mrn
    if task_id.startswith("task1_") and "sol" not in task and "eval_MRN" in task and file_name.startswith("test_data"):
        raise DataError(f"{where} is a v1 task1 row without 'sol'.")
    return task


def load_tasks_path(path: Path) -> list[dict]:
    """Task rows from a local JSON file in the upstream schema (validated like the pinned files)."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"MedAgentBench task file {path} cannot be read as UTF-8 JSON: {exc}.") from None
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_TASKS_PER_FILE:
        raise DataError(f"MedAgentBench task file {path} must be a non-empty JSON list of task objects.")
    tasks = [_validated(row, index, Path(path).name) for index, row in enumerate(rows)]
    ids = [task["id"] for task in tasks]
    if len(set(ids)) != len(ids):
        raise DataError(f"MedAgentBench task file {path} repeats task ids.")
    return tasks
