"""Background records that no MedAgentBench grader reads: other lab/vital codes, procedures, diagnoses
and medications, spread over 5 years up to 2023-11-13.

Filler never uses a task code (``TASK_OBS_CODES``, ``TASK_PROC_CODES``, C64.x, NUR1373) and its medication
texts contain none of the words the v2 graders search for, so it can never change a task's branch. For
speed and memory, filler resources of one patient and code share their nested ``code``, ``category``,
``subject`` and ``medicationCodeableConcept`` objects (treat resources as read-only).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime

from medarc_inspect.medagentbench.synthetic_resources import (
    CPT_SYSTEM,
    FILING_LAG,
    ICD10_SYSTEM,
    LOCAL_MED_SYSTEM,
    LOCAL_OBS_SYSTEM,
    LOCAL_PROC_SYSTEM,
    MR_CATEGORY_SYSTEM,
    IdSource,
    coding_concept,
    obs_category,
)

#: Upstream image's record counts (spec §6); ``scale=1.0`` reproduces them.
UPSTREAM_COUNTS = {"Observation": 563_426, "Procedure": 124_969, "Condition": 74_821, "MedicationRequest": 21_991}
#: Background records per patient at ``scale=0`` (distractor codes for every patient).
BACKGROUND_PER_PATIENT = {"Observation": 6, "Procedure": 2, "Condition": 1, "MedicationRequest": 1}

_END = int(datetime(2023, 11, 13, 10, 15, tzinfo=UTC).timestamp())
_START = _END - 5 * 365 * 86400
_LAG = int(FILING_LAG.total_seconds())

# code, display, unit, category, low, high, decimals
FILLER_OBS = [
    ("NA", "Sodium", "mmol/L", "laboratory", 128, 148, 0),
    ("CL", "Chloride", "mmol/L", "laboratory", 92, 112, 0),
    ("CO2", "Bicarbonate", "mmol/L", "laboratory", 18, 32, 0),
    ("BUN", "Urea nitrogen", "mg/dL", "laboratory", 6, 45, 0),
    ("CR", "Creatinine", "mg/dL", "laboratory", 0.5, 3.0, 2),
    ("CA", "Calcium", "mg/dL", "laboratory", 8.0, 10.8, 1),
    ("PHOS", "Phosphorus", "mg/dL", "laboratory", 2.3, 5.2, 1),
    ("ALB", "Albumin", "g/dL", "laboratory", 2.5, 5.0, 1),
    ("HGB", "Hemoglobin", "g/dL", "laboratory", 8.0, 17.0, 1),
    ("WBC", "White blood cells", "K/uL", "laboratory", 3.0, 15.0, 1),
    ("PLT", "Platelets", "K/uL", "laboratory", 90, 420, 0),
    ("INR", "INR", "{ratio}", "laboratory", 0.9, 3.2, 1),
    ("ALT", "Alanine aminotransferase", "U/L", "laboratory", 8, 90, 0),
    ("LACTATE", "Lactate", "mmol/L", "laboratory", 0.5, 4.0, 1),
    ("TEMP", "Temperature", "degF", "vital-signs", 96.5, 101.5, 1),
    ("RESP", "Respiratory rate", "/min", "vital-signs", 10, 28, 0),
    ("SPO2", "Oxygen saturation", "%", "vital-signs", 88, 100, 0),
    ("BPSYSTOLIC", "Systolic blood pressure", "mm[Hg]", "vital-signs", 90, 175, 0),
    ("BPDIASTOLIC", "Diastolic blood pressure", "mm[Hg]", "vital-signs", 50, 105, 0),
    ("WEIGHT", "Body weight", "kg", "vital-signs", 45, 130, 1),
]
FILLER_PROC = [
    (CPT_SYSTEM, "36415", "Venipuncture"),
    (CPT_SYSTEM, "93000", "Electrocardiogram, 12 lead"),
    (CPT_SYSTEM, "71046", "X-ray chest, 2 views"),
    (LOCAL_PROC_SYSTEM, "NUR0102", "Peripheral IV insertion"),
    (LOCAL_PROC_SYSTEM, "PT0007", "Physical therapy evaluation"),
    (LOCAL_PROC_SYSTEM, "IMGUS0210", "Ultrasound abdomen complete"),
    (LOCAL_PROC_SYSTEM, "RT0031", "Nebulizer treatment"),
]
FILLER_CONDITIONS = [
    ("I10", "Essential (primary) hypertension"),
    ("E11.9", "Type 2 diabetes mellitus without complications"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("N18.3", "Chronic kidney disease, stage 3"),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("F32.9", "Major depressive disorder, single episode, unspecified"),
    ("M54.50", "Low back pain, unspecified"),
    ("D64.9", "Anemia, unspecified"),
    ("G47.33", "Obstructive sleep apnea"),
]
FILLER_MEDS = [
    ("LISIN10", "lisinopril 10 mg tablet", "10 mg PO daily"),
    ("METF500", "metformin 500 mg tablet", "500 mg PO twice daily"),
    ("ATOR40", "atorvastatin 40 mg tablet", "40 mg PO nightly"),
    ("AMLO5", "amlodipine 5 mg tablet", "5 mg PO daily"),
    ("SERT50", "sertraline 50 mg tablet", "50 mg PO daily"),
    ("GABA300", "gabapentin 300 mg capsule", "300 mg PO three times daily"),
    ("FURO20", "furosemide 20 mg tablet", "20 mg PO daily"),
    ("DOCU100", "docusate sodium 100 mg capsule", "100 mg PO twice daily"),
    ("METO25", "metoprolol tartrate 25 mg tablet", "25 mg PO twice daily"),
    ("CEFAZ2", "cefazolin 2 g IV piggyback", "2 g IV every 8 hours"),
]
_MED_STATUSES = ("active", "completed", "completed", "stopped")


class _Clock:
    """Fast ``YYYY-MM-DDTHH:MM:SS+00:00`` formatting of epoch seconds (one date string per day)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def __call__(self, seconds: int, suffix: str = "+00:00") -> str:
        day, rest = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = date.fromordinal(719163 + day).isoformat()
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        return f"{prefix}T{hour:02d}:{minute:02d}:{second:02d}{suffix}"


def filler_counts(scale: float, base_counts: dict[str, int], patients: int) -> dict[str, int]:
    """Filler records per type: enough for the upstream proportions at ``scale`` (at least a background)."""
    if not scale >= 0:
        raise ValueError(f"scale must be >= 0, got {scale!r}")
    return {
        kind: max(BACKGROUND_PER_PATIENT[kind] * patients, round(total * scale) - base_counts.get(kind, 0))
        for kind, total in UPSTREAM_COUNTS.items()
    }


def filler(new_id: IdSource, mrns: list[str], counts: dict[str, int], seed: int) -> Iterator[dict]:
    """Yield ``counts[type]`` background resources per type, assigned to ``mrns`` at random."""
    rng = random.Random(f"{seed}:filler")
    clock = _Clock()
    subjects = [{"reference": f"Patient/{mrn}"} for mrn in mrns]
    pick, rand, n = rng.randrange, rng.random, len(subjects)
    span = _END - _START

    obs_codes = [
        (coding_concept(LOCAL_OBS_SYSTEM, c, d), obs_category(cat), u, lo, hi - lo, dec)
        for c, d, u, cat, lo, hi, dec in FILLER_OBS
    ]
    for _ in range(counts["Observation"]):
        code, category, unit, low, width, decimals = obs_codes[pick(len(obs_codes))]
        moment = _START + int(rand() * span)
        value = round(low + width * rand(), decimals)
        yield {
            "resourceType": "Observation",
            "id": new_id(),
            "meta": {"versionId": "1", "lastUpdated": clock(moment + _LAG, ".000+00:00")},
            "status": "final",
            "category": category,
            "code": code,
            "subject": subjects[pick(n)],
            "effectiveDateTime": clock(moment),
            "valueQuantity": {"value": int(value) if decimals == 0 else value, "unit": unit},
        }
    procs = [coding_concept(system, code, display) for system, code, display in FILLER_PROC]
    for _ in range(counts["Procedure"]):
        moment = _START + int(rand() * span)
        yield {
            "resourceType": "Procedure",
            "id": new_id(),
            "meta": {"versionId": "1", "lastUpdated": clock(moment + _LAG, ".000+00:00")},
            "status": "completed",
            "code": procs[pick(len(procs))],
            "subject": subjects[pick(n)],
            "performedDateTime": clock(moment),
        }
    conditions = [coding_concept(ICD10_SYSTEM, code, display) for code, display in FILLER_CONDITIONS]
    clinical = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}
    for _ in range(counts["Condition"]):
        moment = _START + int(rand() * span)
        stamp = clock(moment)
        yield {
            "resourceType": "Condition",
            "id": new_id(),
            "meta": {"versionId": "1", "lastUpdated": clock(moment + _LAG, ".000+00:00")},
            "clinicalStatus": clinical,
            "code": conditions[pick(len(conditions))],
            "subject": subjects[pick(n)],
            "onsetDateTime": stamp,
            "recordedDate": stamp,
        }
    meds = [
        ({"coding": [{"system": LOCAL_MED_SYSTEM, "code": code, "display": text}], "text": text}, [{"text": dosage}])
        for code, text, dosage in FILLER_MEDS
    ]
    med_category = [{"coding": [{"system": MR_CATEGORY_SYSTEM, "code": "inpatient", "display": "Inpatient"}]}]
    for _ in range(counts["MedicationRequest"]):
        moment = _START + int(rand() * span)
        concept, dosage = meds[pick(len(meds))]
        yield {
            "resourceType": "MedicationRequest",
            "id": new_id(),
            "meta": {"versionId": "1", "lastUpdated": clock(moment + _LAG, ".000+00:00")},
            "status": _MED_STATUSES[pick(len(_MED_STATUSES))],
            "intent": "order",
            "category": med_category,
            "medicationCodeableConcept": concept,
            "subject": subjects[pick(n)],
            "authoredOn": clock(moment),
            "dosageInstruction": dosage,
        }
