"""Baselines that need no model: `noop` (finish at once, empty answer) and `oracle` (solve every task).

The oracle reads the ground truth the way the graders do (no v2 tool shows ServiceRequests, which task4
needs), then acts only through the agent's own path: v2 tool calls executed by the same loop and tools,
v1 `POST` / `FINISH` replies answered by the same harness. So a full oracle run scoring 1.0 checks the
tools, the recording of POSTs, the answer handling and the graders together.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from inspect_ai.model import ChatMessageAssistant
from inspect_ai.tool import ToolCall

from medarc_inspect.medagentbench import graders_v1 as g1
from medarc_inspect.medagentbench import graders_v2 as g2
from medarc_inspect.medagentbench.agents import ScriptedTurns
from medarc_inspect.medagentbench.backend import SampleFhir
from medarc_inspect.medagentbench.trace import subject_ref

BASELINES = ("noop", "oracle")
CPT = "http://www.ama-assn.org/go/cpt"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_NAME_DOB = re.compile(r"name (.+?) and DOB of (\d{4}-\d{2}-\d{2})")

Post = tuple[str, dict]  # (resource type, payload)


def _call(function: str, arguments: dict) -> ToolCall:
    return ToolCall(id=f"call_{secrets.token_hex(6)}", function=function, arguments=arguments, type="function")


def _assistant(text: str = "", calls: list[ToolCall] | None = None) -> ChatMessageAssistant:
    return ChatMessageAssistant(content=text, tool_calls=calls, model="baseline", source="generate")


# ------------------------------------------------------------------------------------------- noop


def noop_v2() -> ScriptedTurns:
    async def script(turns: ScriptedTurns) -> None:
        await turns.say(_assistant(calls=[_call("finish", {"value": []})]))

    return ScriptedTurns(script)


def noop_v1() -> ScriptedTurns:
    async def script(turns: ScriptedTurns) -> None:
        await turns.say(_assistant("FINISH([])"))

    return ScriptedTurns(script)


# ------------------------------------------------------------------------------------- oracle: v2

_CREATE_TOOL = {
    "Observation": "fhir_vitals_create",
    "MedicationRequest": "fhir_medication_request_create",
    "ServiceRequest": "fhir_service_request_create",
}


def _sr(mrn: str, now: datetime, system: str, code: str, display: str, note: str = "", when: str | None = None):  # noqa: ANN202
    stamp = now.isoformat()
    return (
        "ServiceRequest",
        {
            "resourceType": "ServiceRequest",
            "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
            "authoredOn": stamp,
            "status": "active",
            "intent": "order",
            "priority": "stat",
            "subject": subject_ref(mrn),
            "note": {"text": note or display},
            "occurrenceDateTime": when or stamp,
        },
    )


def _mr(mrn: str, now: datetime, text: str, status: str = "active", code: str = "", route: str = "oral", dose=None):  # noqa: ANN001, ANN202
    quantity = {"doseQuantity": dose} if dose else {}
    return (
        "MedicationRequest",
        {
            "resourceType": "MedicationRequest",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": text}], "text": text},
            "authoredOn": now.isoformat(),
            "dosageInstruction": [{"route": route, "doseAndRate": [quantity] if quantity else []}],
            "status": status,
            "intent": "order",
            "subject": subject_ref(mrn),
        },
    )


def _stopped(mrn: str, now: datetime, order: dict) -> Post:
    kind, payload = _mr(mrn, now, order["medicationCodeableConcept"].get("text", ""), status="stopped")
    payload["medicationCodeableConcept"] = order["medicationCodeableConcept"]
    return kind, payload


async def oracle_plan_v2(task: dict, fhir: SampleFhir, now: datetime) -> tuple[list[Post], list]:
    """(posts, answer) that pass the v2 grader of `task`, from the sample's data."""
    kind, mrn = task["id"].split("_")[0], task["eval_MRN"]
    base = g2.baseline

    async def procs(*codes: str) -> datetime | None:
        return g2.latest_performed(await base(fhir, "Procedure", {"patient": mrn, "code": ",".join(codes)}))

    if kind == "task1":
        last = await procs(*g2.CT_PRIOR)
        if last is None or last < now - timedelta(days=365):
            return [_sr(mrn, now, CPT, "74177", "CT abdomen and pelvis with IV contrast", "Renal mass follow-up")], []
        return [], [last.isoformat()]
    if kind == "task2":
        active = await base(fhir, "MedicationRequest", {"patient": mrn, "status": "active"})
        anticoag = [r for r in active if any(k in g2.med_text(r) for k in g2.ANTICOAGULANTS)]
        hep5k = [
            r
            for r in anticoag
            if "heparin" in g2.med_text(r) and ("5000" in g2.med_text(r) or "5,000" in g2.med_text(r))
        ]
        posts: list[Post] = []
        keep = max(hep5k, key=lambda r: r.get("authoredOn", "")) if hep5k else None
        if keep is None:
            posts.append(
                _mr(mrn, now, "heparin 5000 units SC q8h", route="subcutaneous", dose={"value": 5000, "unit": "U"})
            )
        if len(anticoag) > 1:
            posts += [_stopped(mrn, now, r) for r in anticoag if r is not keep]
        return posts, []
    if kind == "task3":
        rows = await fhir.search("Observation", {"patient": mrn, "code": "HEARTRATE"})
        kept = [
            (datetime.fromisoformat(r["effectiveDateTime"]), r["valueQuantity"]["value"])
            for r in rows
            if g2.before_cutoff(r)
        ]
        six = [v for t, v in kept if now - timedelta(hours=6) <= t <= now]
        twelve = [v for t, v in kept if now - timedelta(hours=12) <= t <= now]
        return [], [sum(six) / len(six) if six else -1, sum(twelve) / len(twelve) if twelve else -1]
    if kind == "task4":
        last = await procs("NUR1373")
        orders = await base(fhir, "ServiceRequest", {"patient": mrn, "code": "NUR1373", "status": "active"})
        if last is not None and now - last > timedelta(hours=48) and not orders:
            return [_sr(mrn, now, "http://example.org/nursing", "NUR1373", "Remove urinary catheter")], []
        return [], []
    if kind == "task5":
        if not await base(fhir, "Condition", {"patient": mrn, "code": "C64.2"}):
            return [], []
        last = await procs(*g2.CT_PRIOR, "74177")
        if last is not None and now - last <= timedelta(days=90):
            return [], []
        return [
            _sr(mrn, now, CPT, "74177", "CT abdomen and pelvis with IV contrast"),
            _sr(
                mrn,
                now,
                CPT,
                "CON417",
                "Interventional Radiology referral",
                "Evaluate renal mass for biopsy or ablation.",
            ),
        ], []
    if kind == "task6":
        tsh = [
            (r["valueQuantity"]["value"], r["effectiveDateTime"])
            for r in await base(fhir, "Observation", {"patient": mrn, "code": "TSH"})
        ]
        ft4 = [
            (r["valueQuantity"]["value"], r["effectiveDateTime"])
            for r in await base(fhir, "Observation", {"patient": mrn, "code": "FT4"})
        ]
        high = sorted(datetime.fromisoformat(d) for v, d in tsh if v > 10)
        branch_a = any((b - a).days >= 30 for i, a in enumerate(high) for b in high[i + 1 :])
        last_tsh = max(tsh, key=lambda r: datetime.fromisoformat(r[1]))[0] if tsh else None
        last_ft4 = max(ft4, key=lambda r: datetime.fromisoformat(r[1]))[0] if ft4 else None
        branch_b = last_tsh is not None and 4.5 <= last_tsh <= 10 and last_ft4 is not None and 0.8 <= last_ft4 <= 1.8
        labs = [
            _sr(mrn, now, "http://loinc.org", "3016-3", "TSH"),
            _sr(mrn, now, "http://loinc.org", "3024-7", "FT4 (free T4)"),
        ]
        if branch_a:
            return [_mr(mrn, now, "levothyroxine 25 mcg PO daily", dose={"value": 25, "unit": "mcg"}), *labs], []
        return (labs if branch_b else []), []
    if kind == "task7":
        rows = await base(fhir, "Observation", {"patient": mrn, "code": "QTCINTERVAL"})
        if not rows or not max(rows, key=lambda r: r["meta"].get("lastUpdated", ""))["valueQuantity"]["value"] > 500:
            return [], []
        active = await base(fhir, "MedicationRequest", {"patient": mrn, "status": "active"})
        stops = [_stopped(mrn, now, r) for r in active if any(d in g2.med_text(r) for d in g2.QT_DRUGS)]
        ecg = _sr(
            mrn, now, "http://snomed.info/sct", "445118002", "12-lead ECG", when=(now + timedelta(hours=24)).isoformat()
        )
        return [ecg, *stops], []
    if kind == "task8":
        active = await base(fhir, "MedicationRequest", {"patient": mrn, "status": "active"})
        opioid = any(any(w in g2.med_text(r) for w in g2.OPIOIDS) for r in active)
        naloxone = any("naloxone" in g2.med_text(r) or "narcan" in g2.med_text(r) for r in active)
        if opioid and not naloxone:
            return [_mr(mrn, now, "naloxone 4 mg nasal spray", route="nasal", dose={"value": 4, "unit": "mg"})], []
        return [], []
    if kind == "task9":
        last = await procs("90686")
        if last is None or now - last > timedelta(days=365):
            return [_sr(mrn, now, CPT, "90686", "Influenza vaccine, quadrivalent, preservative-free, IM")], []
        return [], []
    if kind == "task10":
        procs10 = await base(fhir, "Procedure", {"patient": mrn, "code": "COVIDVACCINE"})
        meds = [
            r
            for r in await base(fhir, "MedicationRequest", {"patient": mrn, "status": "completed"})
            if "covid-19 vac" in g2.med_text(r)
        ]
        stamps = [t for r in procs10 + meds if (t := g2.performed(r) or r.get("authoredOn"))]
        last = max(datetime.fromisoformat(t) for t in stamps) if stamps else None
        if last is None or (now.date() - last.date()).days > 365:
            return [_sr(mrn, now, CPT, "91320", "COVID-19 vaccine booster, single dose")], []
        return [], []
    raise ValueError(f"no oracle for {task['id']}")


# ------------------------------------------------------------------------------------- oracle: v1


async def oracle_plan_v1(task: dict, fhir: SampleFhir) -> tuple[list[Post], list]:
    """(posts, answer) that pass the v1 grader of `task` (base URL `fhir.base_url`), from the sample's data."""
    kind, mrn = task["id"].split("_")[0], task.get("eval_MRN", "")
    s = datetime.fromisoformat(g1.S)
    if kind == "task1":
        match = _NAME_DOB.search(task["instruction"])
        given, _, family = match.group(1).partition(" ") if match else ("", "", "")
        rows = await fhir.search(
            "Patient", {"given": given, "family": family, "birthdate": match.group(2) if match else ""}
        )
        exact = [r["id"] for r in rows if r["name"][0]["family"] == family and given in r["name"][0]["given"]]
        return [], exact[:1] or ["Patient not found"]
    if kind == "task2":
        rows = await fhir.search("Patient", {"identifier": mrn})
        return [], [g1.age_on_reference_day(rows[0]["birthDate"])]
    if kind == "task3":
        return [
            (
                "Observation",
                {
                    "resourceType": "Observation",
                    "category": [{"coding": [dict(g1.VITALS_CODING)]}],
                    "code": {"text": "BP"},
                    "effectiveDateTime": g1.S,
                    "status": "final",
                    "valueString": "118/77 mmHg",
                    "subject": subject_ref(mrn),
                },
            )
        ], []
    if kind in ("task4", "task5"):
        row = g1.latest([r for r in await g1.observations(fhir, mrn, "MG") if r[0] >= g1.W24_START])
        value = row[1] if row else None
        if kind == "task4":
            return [], [value if value is not None else -1]
        if value is None or value > 1.9:
            return [], []
        dose = 4 if value < 1 else 2 if value < 1.5 else 1
        kind_, payload = _mr(mrn, s, "magnesium sulfate IV", code=g1.MG_NDC[1], route="IV")
        payload["medicationCodeableConcept"]["coding"][0]["system"] = g1.MG_NDC[0]
        payload["dosageInstruction"] = [
            {
                "route": "IV",
                "doseAndRate": [
                    {"doseQuantity": {"value": dose, "unit": "g"}, "rateQuantity": {"value": dose, "unit": "h"}}
                ],
            }
        ]
        return [(kind_, payload)], [value]
    if kind in ("task6", "task7"):
        rows = await g1.observations(fhir, mrn, "GLU")
        if kind == "task6":
            values = [r[1] for r in rows if r[0] >= g1.W24_START]
            return [], [sum(values) / len(values) if values else -1]
        row = g1.latest(rows)
        return [], [row[1] if row else -1]
    if kind == "task8":
        post = _sr(mrn, s, *g1.ORTHO_SNOMED, "Orthopedic surgery referral", g1.sbar_text(task))
        return [post], []
    if kind == "task9":
        row = g1.latest(await g1.observations(fhir, mrn, "K"))
        if row is None or row[1] >= 3.5:
            return [], [row[1] if row else -1]
        dose = round((3.5 - row[1]) / 0.1 * 10, 6)
        kind_, med = _mr(mrn, s, "potassium chloride oral", code=g1.K_NDC[1], dose={"value": dose, "unit": "mEq"})
        med["medicationCodeableConcept"]["coding"][0]["system"] = g1.K_NDC[0]
        lab = _sr(mrn, s, *g1.K_LOINC, "Serum potassium", when="2023-11-14T08:00:00+00:00")
        return [(kind_, med), lab], [row[1]]
    if kind == "task10":
        row = g1.latest(await g1.observations(fhir, mrn, "A1C"))
        answer = [row[1], row[2]] if row else [-1]
        if row is None or row[0] < g1.A1C_CUTOFF:
            return [_sr(mrn, s, *g1.A1C_LOINC, "Hemoglobin A1c")], answer
        return [], answer
    raise ValueError(f"no oracle for {task['id']}")


# --------------------------------------------------------------------------------------- drivers


def oracle_tools(task: dict, fhir: SampleFhir, now: datetime | None, logic: str) -> ScriptedTurns:
    """The oracle through the v2 tools: all creates in one turn (in order), then finish."""

    async def script(turns: ScriptedTurns) -> None:
        if logic == "v1":
            posts, answer = await oracle_plan_v1(task, fhir)
        else:
            assert now is not None
            posts, answer = await oracle_plan_v2(task, fhir, now)
        if posts:
            await turns.say(_assistant(calls=[_call(_CREATE_TOOL[kind], payload) for kind, payload in posts]))
        await turns.say(_assistant(calls=[_call("finish", {"value": answer})]))

    return ScriptedTurns(script)


def oracle_text(task: dict, fhir: SampleFhir) -> ScriptedTurns:
    """The oracle through v1's text protocol: one POST per reply, then FINISH."""

    async def script(turns: ScriptedTurns) -> None:
        posts, answer = await oracle_plan_v1(task, fhir)
        for kind, payload in posts:
            await turns.say(_assistant(f"POST {fhir.base_url}{kind}\n{json.dumps(payload)}"))
        await turns.say(_assistant(f"FINISH({json.dumps(answer)})"))

    return ScriptedTurns(script)


def plan_summary(posts: list[Post], answer: list) -> dict[str, Any]:
    return {"posts": [kind for kind, _ in posts], "answer": answer}
