"""What each MedAgentBench task's grader will expect, computed from the generated resources (spec §3).

``outcome(version, task, now, index)`` reads only the data (never the generator's intents) and returns
the realised branch (a §6 short name), the answer an oracle must give (``None``: the answer is not
graded) and the action it must take (``"none"`` or a description, with machine-readable ``params``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from medarc_inspect.medagentbench.graders_v2 import ANTICOAGULANTS, OPIOIDS, QT_DRUGS
from medarc_inspect.medagentbench.synthetic_resources import (
    LAST_UPDATED_LIMIT,
    TASK_CONDITION_CODES,
    TASK_OBS_CODES,
    TASK_PROC_CODES,
)
from medarc_inspect.medagentbench.task_files import V1_NOW

W24_START = V1_NOW - timedelta(hours=24)
A1C_BOUNDARY = datetime.fromisoformat("2022-11-13T10:15:00+00:00")
AGE_DAY = date(2023, 11, 13)
_NAME_DOB_RE = re.compile(r"name (.+?) and DOB of (\d{4}-\d{2}-\d{2})")


@dataclass
class Outcome:
    branch: str
    expected_answer: list | None
    expected_action: str = "none"
    params: dict = field(default_factory=dict)


@dataclass
class Index:
    """Task-relevant resources by patient (and code), built in one pass over all resources."""

    patients: dict[str, dict] = field(default_factory=dict)
    obs: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    proc: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    cond: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    sr: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))
    mr: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, resources: list[dict]) -> Index:
        index = cls()
        by_code = {
            "Observation": (index.obs, TASK_OBS_CODES),
            "Procedure": (index.proc, TASK_PROC_CODES),
            "Condition": (index.cond, TASK_CONDITION_CODES),
            "ServiceRequest": (index.sr, {"NUR1373"}),
        }
        for resource in resources:
            kind = resource["resourceType"]
            if kind == "Patient":
                index.patients[resource["id"]] = resource
                continue
            mrn = resource["subject"]["reference"].removeprefix("Patient/")
            if kind == "MedicationRequest":
                index.mr[mrn].append(resource)
                continue
            table, codes = by_code[kind]
            for coding in resource["code"]["coding"]:
                if coding["code"] in codes:
                    table[(mrn, coding["code"])].append(resource)
        return index


def _t(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _kept(resources: list[dict]) -> list[dict]:
    """v2 graders keep resources with meta.lastUpdated <= 2025-01-01 (missing lastUpdated is kept)."""
    return [
        r for r in resources if "lastUpdated" not in r["meta"] or _t(r["meta"]["lastUpdated"]) <= LAST_UPDATED_LIMIT
    ]


def _series(index: Index, mrn: str, code: str) -> list[tuple[datetime, float, str]]:
    """(effective time, value, effective text) of a patient's Observations with ``code``, oldest first."""
    rows = [
        (_t(o["effectiveDateTime"]), o["valueQuantity"]["value"], o["effectiveDateTime"])
        for o in index.obs.get((mrn, code), [])
    ]
    return sorted(rows, key=lambda row: row[0])


def _performed(resource: dict) -> datetime | None:
    period = resource.get("performedPeriod", {})
    stamp = resource.get("performedDateTime") or period.get("end") or period.get("start")
    return _t(stamp) if stamp else None


def _procs(index: Index, mrn: str, *codes: str) -> list[tuple[datetime, dict]]:
    rows = [(_performed(r), r) for code in codes for r in _kept(index.proc.get((mrn, code), []))]
    return sorted(((t, r) for t, r in rows if t is not None), key=lambda row: row[0])


def _text(mr: dict) -> str:
    return mr["medicationCodeableConcept"].get("text", "").lower()


def _active_mrs(index: Index, mrn: str) -> list[dict]:
    return [r for r in _kept(index.mr.get(mrn, [])) if r["status"] == "active"]


# ----------------------------------------------------------------------------------------------- v1


def v1_task1(task: dict, index: Index) -> Outcome:
    match = _NAME_DOB_RE.search(task["instruction"])
    if match is None:
        raise ValueError(f"v1 {task['id']}: no 'name ... and DOB of YYYY-MM-DD' in the instruction")
    given, _, family = match.group(1).partition(" ")
    dob = match.group(2)
    same_name = [
        p for p in index.patients.values() if p["name"][0]["family"] == family and p["name"][0]["given"][0] == given
    ]
    found = [p["id"] for p in same_name if p["birthDate"] == dob]
    if len(found) > 1:
        raise ValueError(f"v1 {task['id']}: {len(found)} patients named {given} {family} born {dob}")
    if found:
        branch = "found_same_name_other_dob" if len(same_name) > 1 else "found"
        return Outcome(branch, found)
    return Outcome("not_found_near_miss" if same_name else "not_found", ["Patient not found"])


def v1_task2(mrn: str, index: Index) -> Outcome:
    born = date.fromisoformat(index.patients[mrn]["birthDate"])
    age = AGE_DAY.year - born.year - ((AGE_DAY.month, AGE_DAY.day) < (born.month, born.day))
    if born.month == 11 and born.day < 13:
        branch = "birthday_passed"
    elif born.month == 11 and born.day == 13:
        branch = "birthday_today"
    elif born.month == 11:
        branch = "birthday_upcoming"
    else:
        branch = "other"
    return Outcome(branch, [age])


def _latest_w24(index: Index, mrn: str, code: str) -> tuple[list, tuple | None]:
    rows = _series(index, mrn, code)
    window = [row for row in rows if row[0] >= W24_START]
    return rows, (window[-1] if window else None)


def v1_task4(mrn: str, index: Index) -> Outcome:
    rows, latest = _latest_w24(index, mrn, "MG")
    window = [row for row in rows if row[0] >= W24_START]
    if not rows:
        return Outcome("none", [-1])
    if latest is None:
        return Outcome("only_old", [-1])
    if len(window) == 1:
        return Outcome("edge_24h" if latest[0] == W24_START else "one_in_window", [latest[1]])
    return Outcome("several_in_window", [latest[1]])


def v1_task5(mrn: str, index: Index) -> Outcome:
    _, latest = _latest_w24(index, mrn, "MG")
    if latest is None:
        return Outcome("none", None)
    value = latest[1]
    if value > 1.9:
        return Outcome(f"normal_{value:g}", [value])
    dose = 4 if value < 1 else 2 if value < 1.5 else 1
    kind = "severe" if value < 1 else "moderate" if value < 1.5 else "mild"
    action = (
        f"POST MedicationRequest: IV magnesium (NDC 0338-1715-40), {dose} g over {dose} h, route IV, "
        "authoredOn 2023-11-13T10:15:00+00:00, active order"
    )
    return Outcome(f"{kind}_{value:g}", [value], action, {"value": value, "dose_g": dose, "rate_h": dose})


def v1_task6(mrn: str, index: Index) -> Outcome:
    rows = _series(index, mrn, "GLU")
    window = [row[1] for row in rows if row[0] >= W24_START]
    if not rows:
        return Outcome("none_ever", [-1])
    if not window:
        return Outcome("old_only", [-1])
    branch = "one_in_window" if len(window) == 1 else "several_in_window"
    return Outcome(branch, [sum(window) / len(window)])


def v1_task7(mrn: str, index: Index) -> Outcome:
    rows = _series(index, mrn, "GLU")
    if not rows:
        return Outcome("none_ever", [-1])
    latest = rows[-1]
    return Outcome("latest_recent" if latest[0] >= W24_START else "latest_old", [latest[1]])


def v1_task9(mrn: str, index: Index) -> Outcome:
    rows = _series(index, mrn, "K")
    if not rows:
        return Outcome("none", [-1])
    value = rows[-1][1]
    if value >= 3.5:
        if value == 3.5:
            branch = "equal_3.5"
        else:
            branch = "old_low_new_normal" if any(row[1] < 3.5 for row in rows) else "normal"
        return Outcome(branch, [value])
    dose = round((3.5 - value) / 0.1 * 10, 1)
    action = (
        f"POST MedicationRequest: oral potassium (NDC 40032-917-01) {dose:g} mEq, authoredOn "
        "2023-11-13T10:15:00+00:00; then POST ServiceRequest: serum potassium (LOINC 2823-3), stat, "
        "occurrenceDateTime 2023-11-14T08:00:00+00:00"
    )
    return Outcome(f"low_{value:g}", [value], action, {"value": value, "dose_meq": dose})


def v1_task10(mrn: str, index: Index) -> Outcome:
    rows = _series(index, mrn, "A1C")
    action = "POST ServiceRequest: HbA1c (LOINC 4548-4), authoredOn 2023-11-13T10:15:00+00:00, active order, stat"
    if not rows:
        return Outcome("none", [-1], action)
    moment, value, text = rows[-1]
    answer = [value, text]
    if moment < A1C_BOUNDARY:
        branch = "edge_just_before" if A1C_BOUNDARY - moment <= timedelta(minutes=1) else "old"
        return Outcome(branch, answer, action)
    pair = any(A1C_BOUNDARY - timedelta(hours=1) <= row[0] < A1C_BOUNDARY for row in rows)
    near = moment - A1C_BOUNDARY <= timedelta(hours=1)
    return Outcome("boundary_pair" if pair and near else "recent", answer)


def v1_outcome(task: dict, index: Index) -> Outcome:
    kind = task["id"].split("_")[0]
    mrn = task.get("eval_MRN")
    if kind == "task1":
        return v1_task1(task, index)
    if kind == "task3":
        return Outcome(
            "record_bp",
            None,
            "POST Observation: BP 118/77 mmHg, vital-signs, effectiveDateTime 2023-11-13T10:15:00+00:00, status final",
        )
    if kind == "task8":
        return Outcome(
            "referral",
            None,
            "POST ServiceRequest: orthopedic referral (SNOMED 306181000000106), "
            "stat, with the SBAR note, authoredOn 2023-11-13T10:15:00+00:00",
        )
    table = {
        "task2": v1_task2,
        "task4": v1_task4,
        "task5": v1_task5,
        "task6": v1_task6,
        "task7": v1_task7,
        "task9": v1_task9,
        "task10": v1_task10,
    }
    return table[kind](mrn, index)


# ----------------------------------------------------------------------------------------------- v2


def v2_task1(mrn: str, now: datetime, index: Index) -> Outcome:
    rows = _procs(index, mrn, "IMGCT0491", "IMGIL0001")
    cutoff = now - timedelta(days=365)
    action = "POST ServiceRequest: CT abdomen/pelvis 74177, reason 'Renal mass follow-up', active order"
    if not rows:
        return Outcome("none", None, action)
    moment, latest = rows[-1]
    if moment < cutoff:
        return Outcome("old", None, action)
    if moment == cutoff:
        return Outcome("edge_365d", None)
    return Outcome("period_only" if "performedDateTime" not in latest else "recent", None)


def v2_task2(mrn: str, index: Index) -> Outcome:
    anticoag = [r for r in _active_mrs(index, mrn) if any(k in _text(r) for k in ANTICOAGULANTS)]
    hep5k = [r for r in anticoag if "heparin" in _text(r) and ("5000" in _text(r) or "5,000" in _text(r))]
    create, stop = not hep5k, len(anticoag) >= 2
    if not anticoag:
        branch = "none"
    elif hep5k and len(anticoag) == 1:
        branch = "hep5k_only"
    elif len(anticoag) == 1:
        branch = "heparin_flush" if "heparin" in _text(anticoag[0]) else "single_other_anticoag"
    else:
        branch = "hep5k_plus_duplicate" if hep5k else "two_other_anticoags"
    actions = []
    if create:
        actions.append("POST MedicationRequest: heparin 5000 units SC q8h, active order")
    # keep the newest heparin 5000 order if there is one (else the new one replaces them all)
    keep = max(hep5k, key=lambda r: r["authoredOn"]) if hep5k else None
    stop_ids = sorted(r["id"] for r in anticoag if r is not keep) if stop else []
    if stop:
        actions.append(f"POST MedicationRequest status stopped for each duplicate ({', '.join(stop_ids)})")
    return Outcome(branch, None, "; ".join(actions) or "none", {"create": create, "stop_ids": stop_ids})


def v2_task3(mrn: str, now: datetime, index: Index) -> Outcome:
    rows = [
        (_t(o["effectiveDateTime"]), o["valueQuantity"]["value"]) for o in _kept(index.obs.get((mrn, "HEARTRATE"), []))
    ]
    six = [v for t, v in rows if now - timedelta(hours=6) <= t <= now]
    twelve = [v for t, v in rows if now - timedelta(hours=12) <= t <= now]
    answer = [sum(six) / len(six) if six else -1, sum(twelve) / len(twelve) if twelve else -1]
    edges = {now, now - timedelta(hours=6), now - timedelta(hours=12)}
    if any(t > now or t in edges for t, _ in rows):
        branch = "future_and_edges"
    elif six:
        branch = "both_windows"
    elif twelve:
        branch = "only_6_12h"
    else:
        branch = "none_within_12h"
    return Outcome(branch, answer)


def v2_task4(mrn: str, now: datetime, index: Index) -> Outcome:
    rows = _procs(index, mrn, "NUR1373")
    orders = _kept(index.sr.get((mrn, "NUR1373"), []))
    active = [r for r in orders if r["status"] == "active"]
    if not rows:
        return Outcome("none", None)
    dwell = now - rows[-1][0]
    if dwell < timedelta(0):
        return Outcome("after_now", None)
    if dwell <= timedelta(hours=48):
        return Outcome("edge_48h" if dwell == timedelta(hours=48) else "recent", None)
    if active:
        return Outcome("old_with_active_sr", None)
    branch = "old_completed_sr_only" if orders else "old_no_sr"
    return Outcome(branch, None, "POST ServiceRequest: remove urinary catheter (code NUR1373), active order")


def v2_task5(mrn: str, now: datetime, index: Index) -> Outcome:
    if not _kept(index.cond.get((mrn, "C64.2"), [])):
        return Outcome("no_dx", None)
    rows = _procs(index, mrn, "IMGCT0491", "IMGIL0001", "74177")
    action = (
        "POST ServiceRequest: CT abdomen/pelvis 74177, active order; POST ServiceRequest: "
        "Interventional Radiology referral CON417, active order"
    )
    if not rows:
        return Outcome("dx_no_ct", None, action)
    moment, latest = rows[-1]
    if now - moment > timedelta(days=90):
        return Outcome("dx_old_ct", None, action)
    code = latest["code"]["coding"][0]["code"]
    return Outcome("dx_recent_74177" if code == "74177" else "dx_recent_ct", None)


def v2_task6(mrn: str, index: Index) -> Outcome:
    tsh = [(_t(o["effectiveDateTime"]), o["valueQuantity"]["value"]) for o in _kept(index.obs.get((mrn, "TSH"), []))]
    ft4 = [(_t(o["effectiveDateTime"]), o["valueQuantity"]["value"]) for o in _kept(index.obs.get((mrn, "FT4"), []))]
    high = sorted(t for t, v in tsh if v > 10)
    branch_a = any((later - earlier).days >= 30 for i, earlier in enumerate(high) for later in high[i + 1 :])
    last_tsh = max(tsh, key=lambda row: row[0])[1] if tsh else None
    last_ft4 = max(ft4, key=lambda row: row[0])[1] if ft4 else None
    tsh_mid = last_tsh is not None and 4.5 <= last_tsh <= 10
    branch_b = tsh_mid and last_ft4 is not None and 0.8 <= last_ft4 <= 1.8
    labs = "POST ServiceRequest: repeat TSH, active order; POST ServiceRequest: repeat FT4, active order"
    if branch_a:
        return Outcome("A", None, "POST MedicationRequest: levothyroxine 25 mcg PO daily, active order; " + labs)
    if branch_b:
        edges = last_tsh in (4.5, 10) or last_ft4 in (0.8, 1.8)
        return Outcome("B_edges" if edges else "B", None, labs + " (no medication)")
    if len(high) >= 2:
        return Outcome("near_miss_A", None)
    if tsh_mid:
        return Outcome("mid_tsh_abnormal_ft4", None)
    return Outcome("normal" if tsh or ft4 else "no_labs", None)


def v2_task7(mrn: str, index: Index) -> Outcome:
    rows = _kept(index.obs.get((mrn, "QTCINTERVAL"), []))
    if not rows:
        return Outcome("no_qtc", None)
    latest = max(rows, key=lambda r: r["meta"].get("lastUpdated", ""))
    value = latest["valueQuantity"]["value"]
    if value > 500:
        stop_ids = sorted(r["id"] for r in _active_mrs(index, mrn) if any(d in _text(r) for d in QT_DRUGS))
        action = (
            f"POST ServiceRequest: 12-lead ECG (SNOMED 445118002) in 24 h, active order; POST "
            f"MedicationRequest status stopped for each QT-prolonging medication ({', '.join(stop_ids)})"
        )
        return Outcome("prolonged", None, action, {"stop_ids": stop_ids})
    if value == 500:
        return Outcome("eq_500", None)
    old_long = any(r["valueQuantity"]["value"] > 500 for r in rows)
    return Outcome("old_prolonged_new_normal" if old_long else "normal", None)


def v2_task8(mrn: str, index: Index) -> Outcome:
    active = _active_mrs(index, mrn)
    opioid = [r for r in active if any(k in _text(r) for k in OPIOIDS)]
    naloxone = [r for r in active if "naloxone" in _text(r) or "narcan" in _text(r)]
    if opioid and not naloxone:
        return Outcome("opioid_no_naloxone", None, "POST MedicationRequest: naloxone 4 mg nasal spray, active order")
    if opioid:
        return Outcome("opioid_with_naloxone", None)
    any_opioid = any(any(k in _text(r) for k in OPIOIDS) for r in index.mr.get(mrn, []))
    return Outcome("stopped_opioid_only" if any_opioid else "no_opioid", None)


def v2_task9(mrn: str, now: datetime, index: Index) -> Outcome:
    rows = _procs(index, mrn, "90686")
    action = "POST MedicationRequest or ServiceRequest: influenza vaccine (CPT 90686), active order"
    if not rows:
        return Outcome("none", None, action)
    age = now - rows[-1][0]
    if age > timedelta(days=365):
        return Outcome("old", None, action)
    return Outcome("exact_365d" if age == timedelta(days=365) else "recent", None)


def v2_task10(mrn: str, now: datetime, index: Index) -> Outcome:
    procs = [t for t, _ in _procs(index, mrn, "COVIDVACCINE")]
    mrs = _kept(index.mr.get(mrn, []))
    completed = [_t(r["authoredOn"]) for r in mrs if r["status"] == "completed" and "covid-19 vac" in _text(r)]
    ignored = [r for r in mrs if r["status"] != "completed" and "covid-19 vac" in _text(r)]
    dates = procs + completed
    action = "POST MedicationRequest or ServiceRequest: COVID-19 booster (CPT 91320), active order"
    if not dates:
        return Outcome("none", None, action)
    days = (now.date() - max(dates).date()).days
    act = days > 365
    if days in (365, 366):
        branch = f"boundary_{days}d"
    elif act and ignored:
        branch = "active_mr_ignored"
    elif procs and completed:
        branch = "both_recent" if not act else "both_old"
    elif procs:
        branch = "proc_only_old" if act else "proc_only_recent"
    else:
        branch = "mr_only_old" if act else "mr_only_recent"
    return Outcome(branch, None, action if act else "none")


def v2_outcome(task: dict, now: datetime, index: Index) -> Outcome:
    kind, mrn = task["id"].split("_")[0], task["eval_MRN"]
    if kind in ("task1", "task3", "task4", "task5", "task9", "task10"):
        fn = {
            "task1": v2_task1,
            "task3": v2_task3,
            "task4": v2_task4,
            "task5": v2_task5,
            "task9": v2_task9,
            "task10": v2_task10,
        }[kind]
        return fn(mrn, now, index)
    return {"task2": v2_task2, "task6": v2_task6, "task7": v2_task7, "task8": v2_task8}[kind](mrn, index)
