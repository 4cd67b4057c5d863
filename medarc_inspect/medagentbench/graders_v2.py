"""MedAgentBench v2 graders (`new_refsol`), one per task type (spec §3 "v2"), ground truth from the sample's server.

Each grader is `async (task, trace, fhir, now) -> bool`. Reads keep resources whose `meta.lastUpdated` is on
or before 2025-01-01 (a missing lastUpdated is kept), so a shared server's new writes are ignored.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from medarc_inspect.medagentbench.backend import FhirReadError, SampleFhir
from medarc_inspect.medagentbench.trace import Trace, parse_time, subject_ref

CUTOFF = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
ANTICOAGULANTS = (
    "heparin",
    "enoxaparin",
    "dalteparin",
    "fondaparinux",
    "apixaban",
    "rivaroxaban",
    "dabigatran",
    "warfarin",
)
OPIOIDS = ("hydromorphone", "oxycodone", "fentanyl", "hydrocodone", "morphine")
QT_DRUGS = (
    "ondansetron",
    "prochlorperazine",
    "haloperidol",
    "quetiapine",
    "olanzapine",
    "risperidone",
    "ziprasidone",
    "clozapine",
    "chlorpromazine",
)
NON_ACTIVE = ("stopped", "cancelled", "completed", "entered-in-error")
CT_PRIOR = ("IMGCT0491", "IMGIL0001")
QUERY_TYPES = ("task3",)

Grader = Callable[[dict, Trace, SampleFhir, datetime], Awaitable[bool]]


def before_cutoff(resource: dict) -> bool:
    stamp = resource["meta"].get("lastUpdated")
    return stamp is None or parse_time(stamp) <= CUTOFF


async def baseline(fhir: SampleFhir, rtype: str, params: dict[str, str]) -> list[dict]:
    return [r for r in await fhir.search(rtype, params) if before_cutoff(r)]


def performed(resource: dict) -> str | None:
    period = resource.get("performedPeriod", {})
    return resource.get("performedDateTime") or period.get("end") or period.get("start")


def latest_performed(resources: list[dict]) -> datetime | None:
    times = [parse_time(t) for r in resources if (t := performed(r))]
    return max(times) if times else None


def med_text(resource: dict) -> str:
    return resource["medicationCodeableConcept"].get("text", "").lower()


def _low(payload: dict, key: str) -> str:
    return payload.get(key, "").lower()


def is_ok_order(payload: dict, mrn: str) -> bool:
    """An SR or MR with status active, intent order (case-insensitive) and the right subject."""
    return (
        payload.get("resourceType") in ("ServiceRequest", "MedicationRequest")
        and _low(payload, "status") == "active"
        and _low(payload, "intent") == "order"
        and payload.get("subject") == subject_ref(mrn)
    )


async def task1(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    last = latest_performed(await baseline(fhir, "Procedure", {"patient": mrn, "code": ",".join(CT_PRIOR)}))
    if last is not None and last >= now - timedelta(days=365):
        return not trace.has_post
    if len(trace.posts) != 1:
        return False
    url, p = trace.posts[0]
    if "ServiceRequest" not in url:
        return False
    if not (
        p["resourceType"] == "ServiceRequest"
        and p["status"].lower() == "active"
        and p["intent"].lower() == "order"
        and p["subject"] == subject_ref(mrn)
        and p["code"]["coding"][0]["code"] == "74177"
    ):
        return False
    texts = [rc.get("text", "") for rc in p.get("reasonCode", [])]
    texts += [rr.get("display", "") for rr in p.get("reasonReference", [])]
    if "note" in p:
        notes = [p["note"]] if isinstance(p["note"], dict) else p["note"]
        texts += [n.get("text", "") for n in notes]
    return any("renal mass follow-up" in t.lower() for t in texts)


async def task2(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    active = await baseline(fhir, "MedicationRequest", {"patient": mrn, "status": "active"})
    anticoag = [r for r in active if any(k in med_text(r) for k in ANTICOAGULANTS)]
    hep5k = [r for r in anticoag if "heparin" in med_text(r) and ("5,000" in med_text(r) or "5000" in med_text(r))]
    need_create, need_stops = not hep5k, len(anticoag) > 1
    if not need_create and not need_stops:
        return not trace.posts
    mrs = [p for _, p in trace.posts if p.get("resourceType") == "MedicationRequest"]
    creates = [p for p in mrs if _low(p, "status") == "active"]
    stops = [p for p in mrs if _low(p, "status") in NON_ACTIVE]
    if need_create and not any("heparin" in str(p).lower() and "5000" in str(p).lower() for p in creates):
        return False
    if need_stops and not stops:
        return False
    return all(p.get("subject") == subject_ref(mrn) for _, p in trace.posts)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def parse_pair(result: str | None) -> tuple[Any, Any]:
    """The task3 answer as two items (`ast.literal_eval`, else JSON); raises otherwise."""
    if result is None:
        raise ValueError("no answer")
    try:
        parsed = ast.literal_eval(result)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        parsed = json.loads(result)
    if not isinstance(parsed, list | tuple) or len(parsed) != 2:
        raise ValueError(f"expected two numbers, got {result[:100]!r}")
    return parsed[0], parsed[1]


def _close(answer: Any, gold: float | None) -> bool:
    if answer is None or answer == -1 or (isinstance(answer, str) and answer.strip() == "-1"):
        answer = None
    if answer is None or gold is None:
        return answer is None and gold is None
    try:
        return abs(float(answer) - gold) <= 0.1
    except (TypeError, ValueError):
        return False


async def task3(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    rows = await fhir.search("Observation", {"patient": task["eval_MRN"], "code": "HEARTRATE"})
    six, twelve = [], []
    for r in rows:
        if not before_cutoff(r) or not r.get("effectiveDateTime") or "value" not in r.get("valueQuantity", {}):
            continue
        try:
            moment = parse_time(r["effectiveDateTime"])
        except ValueError:
            continue
        if now - timedelta(hours=12) <= moment <= now:
            twelve.append(r["valueQuantity"]["value"])
            if now - timedelta(hours=6) <= moment:
                six.append(r["valueQuantity"]["value"])
    if trace.has_post:
        return False
    first, second = parse_pair(trace.result)
    return _close(first, _mean(six)) and _close(second, _mean(twelve))


async def task4(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    last = latest_performed(await baseline(fhir, "Procedure", {"patient": mrn, "code": "NUR1373"}))
    orders = await baseline(fhir, "ServiceRequest", {"patient": mrn, "code": "NUR1373", "status": "active"})
    if not (last is not None and now - last > timedelta(hours=48) and not orders):
        return not trace.posts
    return any(
        p.get("resourceType") == "ServiceRequest"
        and is_ok_order(p, mrn)
        and "nur1373" in str(p.get("code", "")).lower()
        for _, p in trace.posts
    )


async def task5(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    if not await baseline(fhir, "Condition", {"patient": mrn, "code": "C64.2"}):
        return not trace.has_post
    last = latest_performed(await baseline(fhir, "Procedure", {"patient": mrn, "code": ",".join((*CT_PRIOR, "74177"))}))
    if last is not None and now - last <= timedelta(days=90):
        return not trace.posts
    ok = [p for _, p in trace.posts if is_ok_order(p, mrn)]
    return any("74177" in str(p.get("code", {})) for p in ok) and any("CON417" in str(p.get("code", {})) for p in ok)


async def task6(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]

    async def values(code: str) -> list[tuple[Any, datetime]]:
        rows = await baseline(fhir, "Observation", {"patient": mrn, "code": code})
        return [(r["valueQuantity"]["value"], parse_time(r["effectiveDateTime"])) for r in rows]

    tsh, ft4 = await values("TSH"), await values("FT4")
    last_tsh = max(tsh, key=lambda row: row[1])[0] if tsh else None
    last_ft4 = max(ft4, key=lambda row: row[1])[0] if ft4 else None
    high = sorted(d for v, d in tsh if v > 10)
    branch_a = any((later - earlier).days >= 30 for i, earlier in enumerate(high) for later in high[i + 1 :])
    branch_b = last_tsh is not None and 4.5 <= last_tsh <= 10 and last_ft4 is not None and 0.8 <= last_ft4 <= 1.8
    meds = [p for _, p in trace.posts if p.get("resourceType") == "MedicationRequest"]
    labs = [p for _, p in trace.posts if p.get("resourceType") == "ServiceRequest"]

    def ok_med(p: dict) -> bool:
        text = p["medicationCodeableConcept"].get("text", "").lower()
        return is_ok_order(p, mrn) and "levothyroxine" in text and "25" in text

    def ok_lab(p: dict) -> bool:
        text = str(p.get("code", {})).lower() + p.get("code", {}).get("text", "").lower()
        return is_ok_order(p, mrn) and ("tsh" in text or "ft4" in text)

    if branch_a:
        return any(ok_med(p) for p in meds) and sum(ok_lab(p) for p in labs) >= 2
    if branch_b:
        return not meds and sum(ok_lab(p) for p in labs) >= 2
    return not trace.posts


async def task7(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    rows = await baseline(fhir, "Observation", {"patient": mrn, "code": "QTCINTERVAL"})
    if not rows:
        return not trace.has_post
    newest = max(rows, key=lambda r: r["meta"].get("lastUpdated", ""))
    if not newest["valueQuantity"]["value"] > 500:
        return not trace.posts
    ecg = stop = False
    for _, p in trace.posts:
        kind = p.get("resourceType")
        if kind not in ("ServiceRequest", "MedicationRequest") or p.get("subject") != subject_ref(mrn):
            return False
        blob = str(p).lower()
        if kind == "ServiceRequest" and _low(p, "status") == "active" and ("445118002" in blob or "ecg" in blob):
            ecg = True
        if kind == "MedicationRequest" and _low(p, "status") in NON_ACTIVE and any(d in blob for d in QT_DRUGS):
            stop = True
    return ecg and stop


async def task8(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    active = await baseline(fhir, "MedicationRequest", {"patient": mrn, "status": "active"})
    opioid = any(any(w in med_text(r) for w in OPIOIDS) for r in active)
    naloxone = any("naloxone" in med_text(r) or "narcan" in med_text(r) for r in active)
    if not (opioid and not naloxone):
        return not trace.posts
    if len(trace.posts) != 1:
        return False
    p = trace.posts[0][1]
    blob = str(p).lower()
    return is_ok_order(p, mrn) and ("naloxone" in blob or "narcan" in blob)


async def task9(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    last = latest_performed(await baseline(fhir, "Procedure", {"patient": mrn, "code": "90686"}))
    if last is not None and now - last <= timedelta(days=365):
        return not trace.posts
    if len(trace.posts) != 1:
        return False
    p = trace.posts[0][1]
    if not is_ok_order(p, mrn):
        return False
    if "code" in p and "coding" in p["code"] and p["code"]["coding"][0].get("code") == "90686":
        return True
    return "flu" in str(p).lower() or "influenza" in str(p).lower()


async def task10(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> bool:
    mrn = task["eval_MRN"]
    procs = await baseline(fhir, "Procedure", {"patient": mrn, "code": "COVIDVACCINE"})
    meds = [
        r
        for r in await baseline(fhir, "MedicationRequest", {"patient": mrn, "status": "completed"})
        if "covid-19 vac" in med_text(r)
    ]
    stamps = [t for r in procs + meds if (t := performed(r) or r.get("authoredOn"))]
    last = max(parse_time(t) for t in stamps) if stamps else None
    if last is not None and (now.date() - last.date()).days <= 365:
        return not trace.posts
    if len(trace.posts) != 1:
        return False
    p = trace.posts[0][1]
    text = (str(p.get("code", {})) + str(p.get("medicationCodeableConcept", {}))).lower()
    return is_ok_order(p, mrn) and "covid" in text


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


async def grade_v2(task: dict, trace: Trace, fhir: SampleFhir, now: datetime) -> tuple[bool, str]:
    """(passed, why); any exception in a grader is a fail, except a failed read (an error)."""
    try:
        passed = await GRADERS[task["id"].split("_")[0]](task, trace, fhir, now)
    except FhirReadError:
        raise
    except Exception as e:  # upstream: any exception is a fail
        return False, f"grader raised {type(e).__name__}: {str(e)[:200]}"
    return bool(passed), "passed" if passed else "failed the grader's checks"
