"""Deterministic synthetic EHR for MedAgentBench v1 and v2 (spec §6 "Synthetic replacement").

``build_synthetic_ehr(seed=0, scale=0.0)`` creates a Patient for every MRN any task file refers to (names
and birth dates from v1 task1 kept exactly), plus distractor patients, and per-patient labs, vitals,
procedures, diagnoses and medication/service requests chosen so that every grader branch of every task
type occurs (§6). Each task's realised branch and the oracle's expected answer/action are then computed
from the generated data (``synthetic_outcomes``) and returned as ``manifest``.

Manifest keys: ``"v1/<id>"`` (v1 ``test_data_v2.json``, also the 98 identical ``test_data_v1.json`` rows
and v2's ``test_data_v2.json``), ``"v1/test_data_v1/task1_9"`` and ``"v1/test_data_v1/task1_10"``,
``"v2/<id>"`` (``new_patient_tasks.json``) and ``"v2/new_tasks/<id>"``; see ``manifest_key``.
Entry: ``{"type", "mrn", "now", "branch", "expected_answer", "expected_action", "params"}`` where
``expected_answer`` is the list the oracle finishes with (``None``: the answer is not graded) and
``expected_action`` is ``"none"`` or a description of the POSTs to make (``params`` holds the numbers
and ids they need).

All resources are FHIR R4 JSON dicts with ``meta.lastUpdated`` before 2025 (following effective time)
and offset-carrying timestamps. Nested objects may be shared between resources: treat them as read-only.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from medarc_inspect.data import DataError, PinnedFile, fetch_all
from medarc_inspect.medagentbench.synthetic_filler import UPSTREAM_COUNTS, filler, filler_counts
from medarc_inspect.medagentbench.synthetic_outcomes import Index, Outcome, v1_outcome, v2_outcome
from medarc_inspect.medagentbench.synthetic_people import Person, make_person, random_birth_date
from medarc_inspect.medagentbench.synthetic_resources import IdSource, patient
from medarc_inspect.medagentbench.synthetic_series import BRANCHES, BUILDERS, GROUP_OF, PARTNERS, merge_intents
from medarc_inspect.medagentbench.task_files import (
    TASK_FILES,
    V1_NOW,
    V1_TEST_DATA_V1_OWN_IDS,
    V2_DEFAULT_NOW,
    Version,
    load_task_file,
    manifest_key,
    task_now,
    task_type,
)

__all__ = [
    "TASK_FILES",
    "UPSTREAM_COUNTS",
    "SyntheticEHR",
    "build_synthetic_ehr",
    "load_task_file",
    "manifest_key",
    "task_now",
    "write_ndjson",
]

#: Every task file the manifest covers, as (version, file name).
MANIFEST_FILES: list[tuple[Version, str]] = [
    ("v1", "test_data_v2.json"),
    ("v1", "test_data_v1.json"),
    ("v2", "new_patient_tasks.json"),
    ("v2", "new_tasks.json"),
]
DISTRACTOR_PATIENTS = 12
MAX_SCALE = 4.0
_NAME_DOB_RE = re.compile(r"name (\S+) (.+?) and DOB of (\d{4}-\d{2}-\d{2})")
# Extra patients that make the v1 task1 look-ups non-trivial (same name, other birth date).
_SAME_NAME_TWINS = [("S2935992", "Tina", "Reid", "1970-05-16")]
_BIRTHDAY = {
    "birthday_passed": [(11, 3), (11, 12)],
    "birthday_today": [(11, 13)],
    "birthday_upcoming": [(11, 16), (11, 29)],
}


@dataclass
class SyntheticEHR:
    """Generated resources (Patients first) and the per-task manifest (see the module docstring)."""

    resources: list[dict]
    manifest: dict[str, dict]


def build_synthetic_ehr(*, seed: int = 0, scale: float = 0.0) -> SyntheticEHR:
    """The synthetic EHR for ``seed`` (same seed and scale: byte-identical JSON).

    ``scale`` 0 makes only what the tasks need plus a small background (about 3k resources); 1.0 adds
    filler up to the upstream image's 785,207 records in its proportions; values in between scale linearly.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if not 0 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 0 and {MAX_SCALE}, got {scale!r}")
    # one fetch for all files, so a missing file (offline) is reported together with the others
    fetch_all([PinnedFile(*TASK_FILES[key]) for key in MANIFEST_FILES], label="MedAgentBench task files")
    tasks = {(version, name): load_task_file(version, name) for version, name in MANIFEST_FILES}
    _check_v1_subset(tasks[("v1", "test_data_v1.json")], tasks[("v1", "test_data_v2.json")])
    v1, v2 = tasks[("v1", "test_data_v2.json")], tasks[("v2", "new_patient_tasks.json")]

    ids = IdSource()
    people, distractors = _people(seed, v1, tasks)
    data = _task_data(seed, ids, v1, v2) + _distractor_data(seed, ids, distractors)
    resources = [_patient(person) for person in people.values()] + data

    base = Counter(r["resourceType"] for r in resources)
    resources.extend(filler(ids, sorted(people), filler_counts(scale, base, len(people)), seed))

    index = Index.build(resources)
    manifest = _manifest(tasks, index)
    _check_coverage(manifest)
    return SyntheticEHR(resources, manifest)


def write_ndjson(resources: list[dict], out_dir: str | Path) -> dict[str, int]:
    """Write one ``<Type>.ndjson`` per resource type into ``out_dir``; returns the count per type."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    with contextlib.ExitStack() as stack:
        handles: dict[str, TextIO] = {}
        for resource in resources:
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            handle = handles.get(kind)
            if handle is None:
                if not isinstance(kind, str) or not kind.isascii() or not kind.isalpha():
                    raise ValueError(f"not a FHIR resource (bad resourceType): {str(resource)[:80]}")
                handle = handles[kind] = stack.enter_context((out / f"{kind}.ndjson").open("w", encoding="utf-8"))
            handle.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
            handle.write("\n")
            counts[kind] += 1
    return dict(sorted(counts.items()))


# ------------------------------------------------------------------------------------------ internals


def _check_v1_subset(small: list[dict], full: list[dict]) -> None:
    by_id = {task["id"]: task for task in full}
    for task in small:
        own = task["id"] in V1_TEST_DATA_V1_OWN_IDS
        if own == (by_id.get(task["id"]) == task):
            raise DataError(
                f"v1 test_data_v1.json row {task['id']} does not match the expected layout (only "
                f"{sorted(V1_TEST_DATA_V1_OWN_IDS)} differ from test_data_v2.json)."
            )


def _people(seed: int, v1: list[dict], tasks: dict) -> tuple[dict[str, Person], list[str]]:
    """Every task MRN, the same-name twins and the distractors (sorted by MRN), and the distractor MRNs."""
    rng = random.Random(f"{seed}:people")
    fixed: dict[str, Person] = {}
    for task in v1:
        if task_type(task) == "task1" and task.get("eval_MRN"):
            match = _NAME_DOB_RE.search(task["instruction"])
            if match is None:
                raise DataError(f"v1 {task['id']}: no 'name <given> <family> and DOB of <date>' in its text.")
            given, family, dob = match.groups()
            fixed[task["sol"][0]] = make_person(rng, task["sol"][0], given=given, family=family, birth_date=dob)
    for mrn, given, family, dob in _SAME_NAME_TWINS:
        fixed[mrn] = make_person(rng, mrn, given=given, family=family, birth_date=dob)

    mrns = sorted({t["eval_MRN"] for rows in tasks.values() for t in rows if t.get("eval_MRN")})
    age_mrns = [t["eval_MRN"] for t in v1 if task_type(t) == "task2" and t["eval_MRN"] not in fixed]
    birthdays = {}
    for position, mrn in enumerate(age_mrns):
        branch = BRANCHES["v1/task2"][position % len(BRANCHES["v1/task2"])]
        options = _BIRTHDAY[branch]
        birthdays[mrn] = options[(position // len(BRANCHES["v1/task2"])) % len(options)]
    people = dict(fixed)
    for mrn in mrns:
        if mrn not in people:
            person_rng = random.Random(f"{seed}:person:{mrn}")
            people[mrn] = make_person(person_rng, mrn, birth_date=random_birth_date(person_rng, birthdays.get(mrn)))
    distractors: list[str] = []
    while len(distractors) < DISTRACTOR_PATIENTS:
        mrn = f"S9{rng.randrange(10**6):06d}"  # task MRNs never start with S9
        if mrn not in people:
            people[mrn] = make_person(random.Random(f"{seed}:person:{mrn}"), mrn)
            distractors.append(mrn)
    return dict(sorted(people.items())), sorted(distractors)


def _patient(person: Person) -> dict:
    return patient(
        person.mrn,
        person.family,
        person.given,
        person.gender,
        person.birth_date,
        person.city,
        person.postal_code,
        person.phone,
    )


def _task_data(seed: int, ids: IdSource, v1: list[dict], v2: list[dict]) -> list[dict]:
    """Series for every (task patient, data group), built from the merged intents of all task types."""
    by_type: dict[str, list[tuple[str, datetime]]] = {}
    for version, rows in (("v1", v1), ("v2", v2)):
        for task in rows:
            if task.get("eval_MRN"):
                by_type.setdefault(f"{version}/{task_type(task)}", []).append(
                    (task["eval_MRN"], task_now(task, version))
                )
    intents: dict[tuple[str, str], dict[str, str]] = {}
    nows: dict[tuple[str, str], dict[str, datetime]] = {}
    for kind, group in GROUP_OF.items():
        rows = by_type[kind]
        partner = {mrn for mrn, _ in by_type.get(PARTNERS.get(kind, ""), [])}
        ordered = [row for row in rows if row[0] not in partner] + [row for row in rows if row[0] in partner]
        branches = BRANCHES[kind]
        for position, (mrn, now) in enumerate(ordered):
            intents.setdefault((mrn, group), {})[kind] = branches[position % len(branches)]
            nows.setdefault((mrn, group), {})[kind] = now
    out: list[dict] = []
    for mrn, group in sorted(intents):
        rng = random.Random(f"{seed}:{mrn}:{group}")
        intent = merge_intents(group, intents[(mrn, group)], nows[(mrn, group)], rng)
        out.extend(BUILDERS[group](ids, mrn, rng, intent))
    return out


_DISTRACTOR_NOW = {
    "hr": V2_DEFAULT_NOW,
    "cath": datetime.fromisoformat("2023-11-11T09:00:00+00:00"),
    "flu": datetime.fromisoformat("2024-01-09T00:00:00+00:00"),
}


def _distractor_data(seed: int, ids: IdSource, mrns: list[str]) -> list[dict]:
    """Task-code data for non-task patients (random branches), to punish a missing patient filter."""
    out: list[dict] = []
    for mrn in mrns:
        for kind, group in GROUP_OF.items():
            if kind in ("v1/task5", "v1/task7", "v2/task5"):
                continue  # merged into their partner's group below
            rng = random.Random(f"{seed}:{mrn}:{group}:distractor")
            by_type = {kind: rng.choice(BRANCHES[kind])}
            if PARTNERS.get(kind):
                by_type[PARTNERS[kind]] = rng.choice(BRANCHES[PARTNERS[kind]])
            now = {k: _DISTRACTOR_NOW.get(group, V1_NOW) for k in by_type}
            out.extend(BUILDERS[group](ids, mrn, rng, merge_intents(group, by_type, now, rng)))
    return out


def _manifest(tasks: dict, index: Index) -> dict[str, dict]:
    manifest: dict[str, dict] = {}
    for (version, name), rows in tasks.items():
        for task in rows:
            key = manifest_key(version, name, task["id"])
            now = task_now(task, version)
            result: Outcome = v1_outcome(task, index) if version == "v1" else v2_outcome(task, now, index)
            if version == "v1" and "sol" in task and result.expected_answer != task["sol"]:
                raise RuntimeError(
                    f"synthetic data gives {result.expected_answer} for v1 {task['id']}, the task says {task['sol']}"
                )
            entry = {
                "type": task_type(task),
                "mrn": task.get("eval_MRN"),
                "now": now.isoformat(),
                "branch": result.branch,
                "expected_answer": result.expected_answer,
                "expected_action": result.expected_action,
                "params": result.params,
            }
            if manifest.setdefault(key, entry) != entry:
                raise RuntimeError(f"two task files map to manifest key {key} with different outcomes")
    return manifest


def _check_coverage(manifest: dict[str, dict]) -> None:
    """Every intended branch of every type must be realised by a task of the version's default file."""
    realised: dict[str, set[str]] = {}
    for key, entry in manifest.items():
        if key.count("/") == 1:
            realised.setdefault(f"{key.split('/')[0]}/{entry['type']}", set()).add(entry["branch"])
    for kind, branches in BRANCHES.items():
        missing = set(branches) - realised.get(kind, set())
        if missing:
            raise RuntimeError(f"synthetic EHR misses {kind} branches {sorted(missing)}")
