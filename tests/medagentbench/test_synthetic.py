"""Synthetic MedAgentBench EHR: determinism, patients, resource shapes, scale and ndjson output."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medarc_inspect.medagentbench.synthetic import UPSTREAM_COUNTS, SyntheticEHR, build_synthetic_ehr, write_ndjson
from medarc_inspect.medagentbench.synthetic_filler import FILLER_MEDS
from medarc_inspect.medagentbench.synthetic_outcomes import ANTICOAGULANTS, OPIOIDS, QT_DRUGS
from medarc_inspect.medagentbench.synthetic_resources import TASK_OBS_CODES, TASK_PROC_CODES
from medarc_inspect.medagentbench.task_files import load_task_file

MIRROR = Path(__file__).resolve().parents[3] / "shared" / "mirror"
STAMP_KEYS = ("effectiveDateTime", "issued", "performedDateTime", "authoredOn", "occurrenceDateTime",
              "onsetDateTime", "recordedDate", "lastUpdated", "start", "end")  # fmt: skip
OFFSET_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}")


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory for module-scoped builds (the env is set around each build, see ``_build``)."""
    if not MIRROR.is_dir():
        pytest.skip(f"offline mirror not found at {MIRROR}")
    return tmp_path_factory.mktemp("synthetic-cache")


def _offline(cache: Path, function, **kwargs):
    # The project's autouse fixture resets these variables per test, so set them around the call.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDARC_INSPECT_MIRROR", str(MIRROR))
        patch.setenv("MEDARC_INSPECT_CACHE_DIR", str(cache))
        patch.setenv("MEDARC_INSPECT_OFFLINE", "1")
        return function(**kwargs)


@pytest.fixture(scope="module")
def ehr(offline_env: Path) -> SyntheticEHR:
    return _offline(offline_env, build_synthetic_ehr, seed=0, scale=0.0)


@pytest.fixture(scope="module")
def ehr_scaled(offline_env: Path) -> SyntheticEHR:
    return _offline(offline_env, build_synthetic_ehr, seed=0, scale=0.05)


@pytest.fixture(scope="module")
def tasks(offline_env: Path) -> dict[str, list[dict]]:
    files = {
        "v1": ("v1", "test_data_v2.json"),
        "v1_small": ("v1", "test_data_v1.json"),
        "v2": ("v2", "new_patient_tasks.json"),
        "v2_new": ("v2", "new_tasks.json"),
    }
    return {key: _offline(offline_env, load_task_file, version=v, name=n) for key, (v, n) in files.items()}


def _dump(ehr: SyntheticEHR) -> str:
    return json.dumps({"resources": ehr.resources, "manifest": ehr.manifest})


def test_same_seed_gives_identical_json_and_other_seeds_differ(ehr: SyntheticEHR, offline_env: Path) -> None:
    assert _dump(_offline(offline_env, build_synthetic_ehr, seed=0, scale=0.0)) == _dump(ehr)
    other = _offline(offline_env, build_synthetic_ehr, seed=1, scale=0.0)
    assert _dump(other) != _dump(ehr)
    assert {k: v["branch"] for k, v in other.manifest.items()} == {k: v["branch"] for k, v in ehr.manifest.items()}


def test_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="scale"):
        build_synthetic_ehr(scale=-0.1)
    with pytest.raises(TypeError, match="seed"):
        build_synthetic_ehr(seed="0")  # type: ignore[arg-type]


def test_every_task_mrn_has_a_patient(ehr: SyntheticEHR, tasks: dict[str, list[dict]]) -> None:
    patients = {r["id"]: r for r in ehr.resources if r["resourceType"] == "Patient"}
    mrns = {t["eval_MRN"] for rows in tasks.values() for t in rows if "eval_MRN" in t}
    assert len(mrns) == 98
    assert mrns <= set(patients)
    assert len(patients) > len(mrns)  # distractors
    for mrn, resource in patients.items():
        identifier = resource["identifier"][0]
        assert identifier["value"] == mrn
        assert identifier["type"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/v2-0203"
        assert identifier["type"]["coding"][0]["code"] == "MR"
        name = resource["name"][0]
        assert name["use"] == "official" and name["family"] and name["given"][0]
        assert resource["gender"] in ("female", "male", "unknown")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", resource["birthDate"])


def _people(ehr: SyntheticEHR) -> list[tuple[str, str, str, str]]:
    return [
        (r["id"], r["name"][0]["given"][0], r["name"][0]["family"], r["birthDate"])
        for r in ehr.resources
        if r["resourceType"] == "Patient"
    ]


def test_v1_task1_facts(ehr: SyntheticEHR, tasks: dict[str, list[dict]]) -> None:
    people = _people(ehr)
    assert ("S6534835", "Peter", "Stafford", "1932-12-29") in people
    assert ("S6426560", "Maria", "Alvarez", "1940-03-05") in people
    assert ("S6551923", "Debra", "Dunn", "1969-05-12") in people  # near miss of a not-found case
    assert not [p for p in people if p[1:] in (("Debra", "Dunn", "1969-05-15"), ("Kyle", "Jia", "1969-05-15"))]
    reids = {p[0]: p[3] for p in people if p[1:3] == ("Tina", "Reid")}
    assert reids == {"S3213957": "1953-10-18", "S2935992": "1970-05-16"}
    for task in tasks["v1"]:
        if task["id"].startswith("task1_"):
            given, family, dob = re.search(r"name (\S+) (.+?) and DOB of (\S+)\?", task["instruction"]).groups()
            matches = [p[0] for p in people if p[1:] == (given, family, dob)]
            assert (matches or ["Patient not found"]) == task["sol"], task["id"]
            assert ehr.manifest[f"v1/{task['id']}"]["expected_answer"] == task["sol"]
    assert ehr.manifest["v1/task1_1"]["expected_answer"] == ["S6534835"]
    assert ehr.manifest["v1/test_data_v1/task1_10"]["expected_answer"] == ["Patient not found"]


def test_v1_task2_age(ehr: SyntheticEHR) -> None:
    patient = next(r for r in ehr.resources if r["resourceType"] == "Patient" and r["id"] == "S2874099")
    assert patient["birthDate"] == "1963-01-29"
    assert ehr.manifest["v1/task2_1"]["expected_answer"] == [60]


def _stamps(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in ([v] if k in STAMP_KEYS and isinstance(v, str) else _stamps(v))]
    if isinstance(value, list):
        return [s for item in value for s in _stamps(item)]
    return []


@pytest.mark.parametrize("which", ["ehr", "ehr_scaled"])
def test_resource_shapes(which: str, request: pytest.FixtureRequest) -> None:
    data: SyntheticEHR = request.getfixturevalue(which)
    limit = datetime(2025, 1, 1, tzinfo=UTC)
    patients = {r["id"] for r in data.resources if r["resourceType"] == "Patient"}
    ids = Counter(r["id"] for r in data.resources)
    assert max(ids.values()) == 1
    for resource in data.resources:
        kind = resource["resourceType"]
        assert kind in ("Patient", "Observation", "Procedure", "Condition", "MedicationRequest", "ServiceRequest")
        assert datetime.fromisoformat(resource["meta"]["lastUpdated"]) < limit
        for stamp in _stamps(resource):
            assert OFFSET_RE.fullmatch(stamp), (resource["id"], stamp)
        if kind == "Patient":
            continue
        reference = resource["subject"]["reference"]
        assert resource["subject"] == {"reference": reference} and reference.removeprefix("Patient/") in patients
        if kind == "Observation":
            assert resource["code"]["coding"][0]["code"] and "value" in resource["valueQuantity"]
            assert resource["category"][0]["coding"][0]["code"] in ("laboratory", "vital-signs")
            assert "effectiveDateTime" in resource
        elif kind == "Procedure":
            assert "performedDateTime" in resource or "start" in resource["performedPeriod"]
        elif kind == "MedicationRequest":
            concept = resource["medicationCodeableConcept"]
            assert concept["coding"] and concept["text"]
            assert resource["status"] and resource["intent"] and resource["authoredOn"]
        elif kind == "ServiceRequest":
            assert all(resource[k] for k in ("code", "status", "intent", "priority", "authoredOn"))


def test_last_updated_follows_effective_time(ehr: SyntheticEHR) -> None:
    rows = [
        (r["effectiveDateTime"], r["meta"]["lastUpdated"]) for r in ehr.resources if r["resourceType"] == "Observation"
    ]
    by_effective = sorted(rows, key=lambda row: datetime.fromisoformat(row[0]))
    assert [row[1] for row in by_effective] == sorted(row[1] for row in rows)


def test_scale_keeps_upstream_proportions_and_branches(ehr: SyntheticEHR, ehr_scaled: SyntheticEHR) -> None:
    counts = Counter(r["resourceType"] for r in ehr_scaled.resources)
    for kind, upstream in UPSTREAM_COUNTS.items():
        assert abs(counts[kind] - upstream * 0.05) <= 0.05 * upstream * 0.05, kind
    assert sum(counts.values()) > 10 * len(ehr.resources)
    assert {k: (v["branch"], v["expected_answer"], v["expected_action"]) for k, v in ehr_scaled.manifest.items()} == {
        k: (v["branch"], v["expected_answer"], v["expected_action"]) for k, v in ehr.manifest.items()
    }
    assert _task_relevant(ehr_scaled) == _task_relevant(ehr)


def _task_relevant(data: SyntheticEHR) -> list[str]:
    """Every resource a grader could read: task codes, service requests and keyword medications."""
    task_codes = set(TASK_OBS_CODES) | set(TASK_PROC_CODES) | {"C64.2", "C64.1"}
    words = (*ANTICOAGULANTS, *OPIOIDS, *QT_DRUGS, "naloxone", "narcan", "covid-19 vac")
    out = []
    for resource in data.resources:
        codes = {c["code"] for c in resource.get("code", {}).get("coding", [])}
        text = resource.get("medicationCodeableConcept", {}).get("text", "").lower()
        if codes & task_codes or resource["resourceType"] == "ServiceRequest" or any(w in text for w in words):
            out.append(json.dumps(resource, sort_keys=True))
    return sorted(out)


def test_filler_medications_avoid_grader_keywords() -> None:
    words = (*ANTICOAGULANTS, *OPIOIDS, *QT_DRUGS, "naloxone", "narcan", "covid-19 vac")
    for _, text, _ in FILLER_MEDS:
        assert not [w for w in words if w in text.lower()], text


def test_write_ndjson(ehr: SyntheticEHR, tmp_path: Path) -> None:
    counts = write_ndjson(ehr.resources, tmp_path / "out")
    assert counts == dict(sorted(Counter(r["resourceType"] for r in ehr.resources).items()))
    for kind, count in counts.items():
        lines = (tmp_path / "out" / f"{kind}.ndjson").read_text(encoding="utf-8").splitlines()
        assert len(lines) == count
        assert all(json.loads(line)["resourceType"] == kind for line in lines)
    assert json.loads((tmp_path / "out" / "Patient.ndjson").read_text().splitlines()[0]) == ehr.resources[0]


def test_resources_validate_as_fhir_r4(ehr: SyntheticEHR) -> None:
    models = {}
    for resource in ehr.resources:
        kind = resource["resourceType"]
        if kind not in models:
            models[kind] = getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)
        models[kind].model_validate(resource)
    assert set(models) == {"Patient", "Observation", "Procedure", "Condition", "MedicationRequest", "ServiceRequest"}


def test_output_does_not_depend_on_hash_randomisation(ehr: SyntheticEHR, offline_env: Path) -> None:
    code = (
        "import hashlib, json\n"
        "from medarc_inspect.medagentbench.synthetic import build_synthetic_ehr\n"
        "e = build_synthetic_ehr(seed=0, scale=0.0)\n"
        "print(hashlib.sha256(json.dumps({'resources': e.resources, 'manifest': e.manifest}).encode()).hexdigest())\n"
    )
    env = {**os.environ, "MEDARC_INSPECT_MIRROR": str(MIRROR), "MEDARC_INSPECT_CACHE_DIR": str(offline_env),
           "MEDARC_INSPECT_OFFLINE": "1", "PYTHONHASHSEED": "12345"}  # fmt: skip
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == hashlib.sha256(_dump(ehr).encode()).hexdigest()


def test_write_ndjson_rejects_bad_resource_types(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad resourceType"):
        write_ndjson([{"resourceType": "../Patient"}], tmp_path)
    with pytest.raises(ValueError, match="bad resourceType"):
        write_ndjson([{"id": "1"}], tmp_path)
    assert list(tmp_path.iterdir()) == []
