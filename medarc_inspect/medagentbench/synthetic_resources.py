"""Code tables, timestamp formatting and FHIR R4 resource builders for the synthetic EHR.

Code systems: MedAgentBench's short flowsheet/lab codes (MG, GLU, K, A1C, HEARTRATE, TSH, FT4,
QTCINTERVAL) and its local procedure codes (IMGCT0491, IMGIL0001, NUR1373, COVIDVACCINE) are not from a
published system, and the upstream image's system URLs are not documented, so they carry the local
systems ``LOCAL_OBS_SYSTEM`` / ``LOCAL_PROC_SYSTEM`` below (servers match a bare code in any system).
CPT codes (74177, 90686) use the AMA CPT URL, diagnoses ICD-10-CM, MRNs type MR of HL7 v2-0203.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

LOCAL_OBS_SYSTEM = "http://medarc-inspect.local/fhir/CodeSystem/medagentbench-flowsheet"
LOCAL_PROC_SYSTEM = "http://medarc-inspect.local/fhir/CodeSystem/medagentbench-procedure"
LOCAL_MED_SYSTEM = "http://medarc-inspect.local/fhir/CodeSystem/medagentbench-medication"
MRN_SYSTEM = "http://medarc-inspect.local/fhir/sid/mrn"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
OBS_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
MR_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
V2_0203_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"

#: The instant every Patient was "loaded" (the upstream image's lastUpdated); all data is older.
BASELINE_LAST_UPDATED = "2024-12-30T19:05:44.779+00:00"
#: Results are filed this long after their effective time (meta.lastUpdated follows effective time).
FILING_LAG = timedelta(minutes=37)
LAST_UPDATED_LIMIT = datetime(2025, 1, 1, tzinfo=UTC)

#: code -> (display, unit, category) of every Observation code a grader reads.
TASK_OBS_CODES: dict[str, tuple[str, str, str]] = {
    "MG": ("Magnesium", "mg/dL", "laboratory"),
    "GLU": ("Glucose (CBG)", "mg/dL", "laboratory"),
    "K": ("Potassium", "mmol/L", "laboratory"),
    "A1C": ("Hemoglobin A1c", "%", "laboratory"),
    "HEARTRATE": ("Heart rate", "/min", "vital-signs"),
    "TSH": ("Thyroid stimulating hormone", "uIU/mL", "laboratory"),
    "FT4": ("Free T4", "ng/dL", "laboratory"),
    "QTCINTERVAL": ("QTc interval", "ms", "laboratory"),
}
#: code -> (system, display) of every Procedure code a grader reads.
TASK_PROC_CODES: dict[str, tuple[str, str]] = {
    "IMGCT0491": (LOCAL_PROC_SYSTEM, "CT abdomen and pelvis with contrast"),
    "IMGIL0001": (LOCAL_PROC_SYSTEM, "CT abdomen and pelvis (outside study)"),
    "74177": (CPT_SYSTEM, "CT abdomen and pelvis with IV contrast"),
    "NUR1373": (LOCAL_PROC_SYSTEM, "Insert indwelling urinary catheter"),
    "90686": (CPT_SYSTEM, "Influenza vaccine, quadrivalent, preservative free, IM"),
    "COVIDVACCINE": (LOCAL_PROC_SYSTEM, "COVID-19 vaccine administration"),
}
TASK_CONDITION_CODES: dict[str, str] = {
    "C64.2": "Malignant neoplasm of left kidney, except renal pelvis",
    "C64.1": "Malignant neoplasm of right kidney, except renal pelvis",
}

_CATEGORY_DISPLAY = {"laboratory": "Laboratory", "vital-signs": "Vital Signs"}


class IdSource:
    """Deterministic resource ids: one increasing counter shared by all types (as HAPI does)."""

    def __init__(self, start: int = 100_000) -> None:
        self._next = start

    def __call__(self) -> str:
        self._next += 1
        return str(self._next)


def iso(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS+00:00`` (UTC, always with an offset)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def last_updated(moment: datetime) -> str:
    """meta.lastUpdated for a record effective at ``moment``: filed ``FILING_LAG`` later, before 2025."""
    filed = moment.astimezone(UTC) + FILING_LAG
    if filed >= LAST_UPDATED_LIMIT:
        raise ValueError(f"synthetic record at {moment} would be filed after 2025")
    return filed.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def meta(moment: datetime) -> dict:
    return {"versionId": "1", "lastUpdated": last_updated(moment)}


def subject(mrn: str) -> dict:
    return {"reference": f"Patient/{mrn}"}


def coding_concept(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def obs_category(category: str) -> list[dict]:
    return [{"coding": [{"system": OBS_CATEGORY_SYSTEM, "code": category, "display": _CATEGORY_DISPLAY[category]}]}]


def patient(
    mrn: str, family: str, given: str, gender: str, birth_date: str, city: str, postal_code: str, phone: str
) -> dict:
    return {
        "resourceType": "Patient",
        "id": mrn,
        "meta": {"versionId": "1", "lastUpdated": BASELINE_LAST_UPDATED},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [{"system": V2_0203_SYSTEM, "code": "MR", "display": "Medical Record Number"}],
                    "text": "Medical Record Number",
                },
                "system": MRN_SYSTEM,
                "value": mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "telecom": [{"system": "phone", "value": phone, "use": "home"}],
        "gender": gender,
        "birthDate": birth_date,
        "address": [
            {"use": "home", "line": ["1 Synthetic Way"], "city": city, "state": "CA", "postalCode": postal_code}
        ],
    }


def observation(new_id: IdSource, mrn: str, code: str, moment: datetime, value: float) -> dict:
    """A final Observation of one of the task codes in ``TASK_OBS_CODES``."""
    display, unit, category = TASK_OBS_CODES[code]
    return {
        "resourceType": "Observation",
        "id": new_id(),
        "meta": meta(moment),
        "status": "final",
        "category": obs_category(category),
        "code": coding_concept(LOCAL_OBS_SYSTEM, code, display),
        "subject": subject(mrn),
        "effectiveDateTime": iso(moment),
        "issued": iso(moment + FILING_LAG),
        "valueQuantity": {"value": value, "unit": unit},
    }


def procedure(new_id: IdSource, mrn: str, code: str, moment: datetime, *, period_start: datetime | None = None) -> dict:
    """A completed Procedure; with ``period_start`` it has only performedPeriod{start, end=moment}."""
    system, display = TASK_PROC_CODES[code]
    resource = {
        "resourceType": "Procedure",
        "id": new_id(),
        "meta": meta(moment),
        "status": "completed",
        "code": coding_concept(system, code, display),
        "subject": subject(mrn),
    }
    if period_start is None:
        resource["performedDateTime"] = iso(moment)
    else:
        resource["performedPeriod"] = {"start": iso(period_start), "end": iso(moment)}
    return resource


def condition(new_id: IdSource, mrn: str, code: str, moment: datetime) -> dict:
    display = TASK_CONDITION_CODES[code]
    return {
        "resourceType": "Condition",
        "id": new_id(),
        "meta": meta(moment),
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": coding_concept(ICD10_SYSTEM, code, display),
        "subject": subject(mrn),
        "onsetDateTime": iso(moment),
        "recordedDate": iso(moment),
    }


def medication_request(
    new_id: IdSource, mrn: str, med_code: str, text: str, status: str, moment: datetime, dosage: str
) -> dict:
    """A MedicationRequest with medicationCodeableConcept{coding, text}, status, intent and authoredOn."""
    return {
        "resourceType": "MedicationRequest",
        "id": new_id(),
        "meta": meta(moment),
        "status": status,
        "intent": "order",
        "category": [{"coding": [{"system": MR_CATEGORY_SYSTEM, "code": "inpatient", "display": "Inpatient"}]}],
        "medicationCodeableConcept": {
            "coding": [{"system": LOCAL_MED_SYSTEM, "code": med_code, "display": text}],
            "text": text,
        },
        "subject": subject(mrn),
        "authoredOn": iso(moment),
        "dosageInstruction": [{"text": dosage}],
    }


def service_request(new_id: IdSource, mrn: str, code: str, display: str, status: str, moment: datetime) -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": new_id(),
        "meta": meta(moment),
        "status": status,
        "intent": "order",
        "priority": "routine",
        "code": coding_concept(LOCAL_PROC_SYSTEM, code, display),
        "subject": subject(mrn),
        "authoredOn": iso(moment),
        "occurrenceDateTime": iso(moment),
    }
