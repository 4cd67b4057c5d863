"""MedAgentBench v1 graders, one per task type (spec §3 "v1"): binary, ground truth read from the sample's server.

Each grader is `async (task, trace, fhir) -> bool`; any exception counts as a fail (see `grade_v1`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from medarc_inspect.medagentbench.backend import FhirReadError, SampleFhir
from medarc_inspect.medagentbench.task_files import V1_NOW
from medarc_inspect.medagentbench.trace import Trace, loads_result, parse_time, subject_ref

S = "2023-11-13T10:15:00+00:00"
W24_START = V1_NOW - timedelta(hours=24)
A1C_CUTOFF = datetime.fromisoformat("2022-11-13T10:15:00+00:00")
AGE_DAY = date(2023, 11, 13)
VITALS_CODING = {"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs", "display": "Vital Signs"}
MG_NDC = ("http://hl7.org/fhir/sid/ndc", "0338-1715-40")
K_NDC = ("http://hl7.org/fhir/sid/ndc", "40032-917-01")
K_LOINC = ("http://loinc.org", "2823-3")
A1C_LOINC = ("http://loinc.org", "4548-4")
ORTHO_SNOMED = ("http://snomed.info/sct", "306181000000106")
QUERY_TYPES = ("task1", "task2", "task4", "task6", "task7")
_QUOTED = re.compile(r'"([^"]+)"')

Grader = Callable[[dict, Trace, SampleFhir], Awaitable[bool]]


def sbar_text(task: dict) -> str:
    """The SBAR sentence task8 asks for: the instruction's quoted text."""
    found = _QUOTED.findall(task["instruction"])
    if not found:
        raise ValueError(f"{task['id']}: no quoted SBAR text in the instruction")
    return found[-1]


def age_on_reference_day(birth_date: str) -> int:
    born = datetime.strptime(birth_date, "%Y-%m-%d")
    return AGE_DAY.year - born.year - ((AGE_DAY.month, AGE_DAY.day) < (born.month, born.day))


async def observations(fhir: SampleFhir, mrn: str, code: str) -> list[tuple[datetime, Any, str]]:
    """(effective time, value, effective text) of a patient's Observations with `code`, in server order."""
    rows = await fhir.search("Observation", {"patient": mrn, "code": code})
    return [(parse_time(r["effectiveDateTime"]), r["valueQuantity"]["value"], r["effectiveDateTime"]) for r in rows]


def latest(rows: list[tuple[datetime, Any, str]]) -> tuple[datetime, Any, str] | None:
    """The first row with the greatest time (upstream keeps the first on ties)."""
    best = None
    for row in rows:
        if best is None or row[0] > best[0]:
            best = row
    return best


def _coding0(concept: dict) -> tuple[str, str]:
    coding = concept["coding"][0]
    return coding["system"], coding["code"]


def _answer_is(trace: Trace, *accepted: Any) -> bool:
    return loads_result(trace) in accepted


async def task1(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    return not trace.has_post and loads_result(trace) == task["sol"]


async def task2(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    if trace.has_post:
        return False
    rows = await fhir.search("Patient", {"identifier": task["eval_MRN"]})
    return loads_result(trace) == [age_on_reference_day(rows[0]["birthDate"])]


async def task3(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    if len(trace.posts) != 1:
        return False
    url, p = trace.posts[0]
    return (
        url == f"{fhir.base_url}Observation"
        and p["resourceType"] == "Observation"
        and len(p["category"]) == 1
        and len(p["category"][0]["coding"]) == 1
        and p["category"][0]["coding"][0] == VITALS_CODING
        and p["code"] == {"text": "BP"}
        and p["effectiveDateTime"] == S
        and p["status"] == "final"
        and p["valueString"] == "118/77 mmHg"
        and p["subject"] == subject_ref(task["eval_MRN"])
    )


async def _latest_mg_w24(task: dict, fhir: SampleFhir) -> Any:
    row = latest([r for r in await observations(fhir, task["eval_MRN"], "MG") if r[0] >= W24_START])
    return row[1] if row else None


async def task4(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    if trace.has_post:
        return False
    value = await _latest_mg_w24(task, fhir)
    return loads_result(trace) == [value if value is not None else -1]


async def task5(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    value = await _latest_mg_w24(task, fhir)
    if value is None:
        return not trace.has_post
    if value > 1.9:
        if trace.has_post:
            return False
    else:
        if len(trace.posts) != 1:
            return False
        url, p = trace.posts[0]
        dose = 4 if value < 1 else 2 if value < 1.5 else 1
        dosage = p["dosageInstruction"][0]
        if not (
            url == f"{fhir.base_url}MedicationRequest"
            and p["resourceType"] == "MedicationRequest"
            and _coding0(p["medicationCodeableConcept"]) == MG_NDC
            and "2023-11-13T10:15" in p["authoredOn"]
            and dosage["route"] == "IV"
            and dosage["doseAndRate"][0]["doseQuantity"] == {"value": dose, "unit": "g"}
            and dosage["doseAndRate"][0]["rateQuantity"] == {"value": dose, "unit": "h"}
            and p["status"] == "active"
            and p["intent"] == "order"
            and p["subject"] == subject_ref(task["eval_MRN"])
        ):
            return False
    return _answer_is(trace, [value], [])


async def task6(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    if trace.has_post:
        return False
    values = [r[1] for r in await observations(fhir, task["eval_MRN"], "GLU") if r[0] >= W24_START]
    reference = sum(values) / len(values) if values else -1
    answer = loads_result(trace)
    return len(answer) == 1 and abs(answer[0] - reference) < 0.1


async def task7(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    if trace.has_post:
        return False
    row = latest(await observations(fhir, task["eval_MRN"], "GLU"))
    return loads_result(trace) == [row[1] if row else -1]


async def task8(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    if len(trace.posts) != 1:
        return False
    url, p = trace.posts[0]
    return (
        url == f"{fhir.base_url}ServiceRequest"
        and p["resourceType"] == "ServiceRequest"
        and _coding0(p["code"]) == ORTHO_SNOMED
        and p["authoredOn"] == S
        and p["status"] == "active"
        and p["intent"] == "order"
        and p["priority"] == "stat"
        and sbar_text(task) in p["note"]["text"]
        and p["subject"] == subject_ref(task["eval_MRN"])
    )


async def task9(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    row = latest(await observations(fhir, task["eval_MRN"], "K"))
    value = row[1] if row else None
    if value is None or value >= 3.5:
        if trace.has_post:
            return False
    else:
        if len(trace.posts) != 2:
            return False
        subject = subject_ref(task["eval_MRN"])
        (url, med), (url2, lab) = trace.posts
        dosage = med["dosageInstruction"][0]
        dose = (3.5 - value) / 0.1 * 10
        if not (
            url == f"{fhir.base_url}MedicationRequest"
            and med["resourceType"] == "MedicationRequest"
            and _coding0(med["medicationCodeableConcept"]) == K_NDC
            and "2023-11-13T10:15" in med["authoredOn"]
            and dosage["route"].lower().strip() == "oral"
            and abs(dosage["doseAndRate"][0]["doseQuantity"]["value"] - dose) <= 0.1
            and dosage["doseAndRate"][0]["doseQuantity"]["unit"] == "mEq"
            and med["status"] == "active"
            and med["intent"] == "order"
            and med["subject"] == subject
        ):
            return False
        if not (
            url2 == f"{fhir.base_url}ServiceRequest"
            and lab["resourceType"] == "ServiceRequest"
            and _coding0(lab["code"]) == K_LOINC
            and lab["authoredOn"] == S
            and lab["status"] == "active"
            and lab["intent"] == "order"
            and lab["priority"] == "stat"
            and lab["subject"] == subject
            and "2023-11-14T08:" in lab["occurrenceDateTime"]
        ):
            return False
    return _answer_is(trace, [value if value is not None else -1], [])


async def task10(task: dict, trace: Trace, fhir: SampleFhir) -> bool:
    row = latest(await observations(fhir, task["eval_MRN"], "A1C"))
    reference = [row[1], row[2]] if row else [-1]
    if row is None or row[0] < A1C_CUTOFF:
        if len(trace.posts) != 1:
            return False
        url, p = trace.posts[0]
        if not (
            url == f"{fhir.base_url}ServiceRequest"
            and p["resourceType"] == "ServiceRequest"
            and _coding0(p["code"]) == A1C_LOINC
            and p["authoredOn"] == S
            and p["status"] == "active"
            and p["intent"] == "order"
            and p["priority"] == "stat"
            and p["subject"] == subject_ref(task["eval_MRN"])
        ):
            return False
    elif trace.has_post:
        return False
    return _answer_is(trace, reference, [])


GRADERS: dict[str, Grader] = {
    "task1": task1,
    "task2": task2,
    "task3": task3,
    "task4": task4,
    "task5": task5,
    "task6": task6,
    "task7": task7,
    "task8": task8,
    "task9": task9,
    "task10": task10,
}


async def grade_v1(task: dict, trace: Trace, fhir: SampleFhir) -> tuple[bool, str]:
    """(passed, why): a run without an answer fails ungraded; any exception in a grader is a fail."""
    if trace.result is None:
        return False, "no valid FINISH (invalid reply or round limit): wrong without grading"
    try:
        passed = await GRADERS[task["id"].split("_")[0]](task, trace, fhir)
    except FhirReadError:
        raise  # the ground truth is unknown: an error, not a fail
    except Exception as e:  # upstream: any exception is a fail
        return False, f"grader raised {type(e).__name__}: {str(e)[:200]}"
    return bool(passed), "passed" if passed else "failed the grader's checks"
