"""The v2 agent's 11 tools (upstream names and parameters), bound to one sample's FHIR view.

Each search tool builds its own URL from typed parameters (`<base><Type>?<urlencoded params>`), so a
model cannot leave the base URL or reach another resource type; each create tool POSTs to its one type.
Every create is recorded in the sample store (`POSTS_KEY`) when it executes, before the request is sent,
as {"url", "payload" (the raw arguments), "accepted" (HTTP 2xx)}: the graders read that list, in call
order. HTTP failures reach the model as tool errors. Tool output is `str(dict)` of the response body,
as upstream.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from inspect_ai.tool import ToolDef, ToolError, ToolParams
from inspect_ai.util import JSONSchema, store

from medarc_inspect.medagentbench.backend import SampleFhir
from medarc_inspect.medagentbench.calculator import CalculatorError, evaluate, format_result

POSTS_KEY = "medagentbench_posts"
RESULT_KEY = "medagentbench_result"
SEARCH_COUNT = "200"  # upstream's page size for the agent's searches
MAX_PARAM_CHARS = 200
CREATE_TOOLS = {
    "fhir_vitals_create": "Observation",
    "fhir_medication_request_create": "MedicationRequest",
    "fhir_service_request_create": "ServiceRequest",
}
TOOL_NAMES = (
    "fhir_patient_search",
    "fhir_observation_search",
    "fhir_vitals_search",
    "fhir_procedure_search",
    "fhir_condition_search",
    "fhir_medication_request_search",
    *CREATE_TOOLS,
    "calculator",
    "finish",
)

_STR = "string"


def _s(description: str) -> JSONSchema:
    return JSONSchema(type=_STR, description=description)


def _obj(
    description: str, properties: dict[str, JSONSchema] | None = None, required: list[str] | None = None
) -> JSONSchema:
    return JSONSchema(type="object", description=description, properties=properties, required=required or None)


def _arr(description: str, items: JSONSchema | None = None) -> JSONSchema:
    return JSONSchema(type="array", description=description, items=items or JSONSchema(type="object"))


_PATIENT = "The patient's MRN (e.g. S1234567) or 'Patient/<MRN>'."
_EXPLANATION = _s("Why you are running this search (one sentence).")
_SUBJECT = _obj("The patient: {'reference': 'Patient/<MRN>'}.", {"reference": _s("Patient/<MRN>")}, ["reference"])
_CODING = _obj("A coding.", {"system": _s("Code system URI."), "code": _s("Code."), "display": _s("Label.")})


def v2_tools(fhir: SampleFhir) -> list[ToolDef]:
    """The 11 tools for one sample, in upstream order."""
    base = fhir.base_url

    async def get(rtype: str, params: dict[str, Any], extra: dict[str, str]) -> str:
        query = _query(params) | extra
        reply = await _send(fhir, "GET", f"{base}{rtype}?{urlencode(query)}")
        return str(_json(reply))

    async def fhir_patient_search(
        birthdate: str | None = None, family: str | None = None, given: str | None = None, identifier: str | None = None
    ) -> str:
        params = {"birthdate": birthdate, "family": family, "given": given, "identifier": identifier}
        return await get("Patient", params, {"_format": "json"})

    async def fhir_observation_search(search_params: dict, explanation: str = "") -> str:
        params = _pick(search_params, ("code", "patient"), required=("code", "patient"))
        return await get("Observation", params, {"_sort": "-date", "_count": SEARCH_COUNT, "_format": "json"})

    async def fhir_vitals_search(category: str, patient: str, date: str | None = None) -> str:
        params = {"category": category, "patient": patient, "date": date}
        return await get("Observation", params, {"_format": "json"})

    async def fhir_procedure_search(search_params: dict, explanation: str = "") -> str:
        params = _pick(search_params, ("code", "date", "patient"), required=("patient",))
        return await get("Procedure", params, {"_sort": "-date", "_count": SEARCH_COUNT, "_format": "json"})

    async def fhir_condition_search(search_params: dict, explanation: str = "") -> str:
        params = _pick(search_params, ("code", "patient"), required=("patient",))
        return await get("Condition", params, {"_count": SEARCH_COUNT, "_format": "json"})

    async def fhir_medication_request_search(patient: str, category: str | None = None, date: str | None = None) -> str:
        params = {"patient": patient, "category": category, "date": date}
        return await get("MedicationRequest", params, {"_count": SEARCH_COUNT, "_format": "json"})

    def creator(name: str) -> Callable[..., Awaitable[str]]:
        rtype = CREATE_TOOLS[name]

        async def create(**kwargs: Any) -> str:
            payload = {k: v for k, v in kwargs.items() if v is not None}
            url = f"{base}{rtype}"
            record = {"url": url, "payload": payload, "accepted": False}
            posts = store().get(POSTS_KEY, [])
            posts.append(record)  # recorded at execution, before sending: nothing is lost to ordering
            store().set(POSTS_KEY, posts)
            reply = await _send(fhir, "POST", url, json.dumps(payload))
            record["accepted"] = True
            store().set(POSTS_KEY, posts)
            return str(_json(reply))

        create.__name__ = name
        return create

    async def calculator(expression: str) -> str:
        try:
            return format_result(evaluate(expression))
        except CalculatorError as e:
            raise ToolError(f"calculator: {e}") from None

    async def finish(value: list) -> str:
        if not isinstance(value, list):
            raise ToolError("finish takes a list, e.g. [] or [42] or ['S1234567']")
        store().set(RESULT_KEY, json.dumps(value))
        return "Finished."

    def search_params(names: dict[str, str], required: list[str]) -> JSONSchema:
        return _obj("Search parameters.", {k: _s(v) for k, v in names.items()}, required)

    defs = [
        ToolDef(
            fhir_patient_search,
            "fhir_patient_search",
            "Search patients (FHIR Patient) by birth date, family name, given name or MRN identifier.",
            ToolParams(
                properties={
                    "birthdate": _s("Birth date, YYYY-MM-DD."),
                    "family": _s("Family (last) name."),
                    "given": _s("Given (first) name."),
                    "identifier": _s("The patient's MRN."),
                }
            ),
        ),
        ToolDef(
            fhir_observation_search,
            "fhir_observation_search",
            "Search a patient's lab Observations by code, newest first (up to 200).",
            ToolParams(
                properties={
                    "search_params": search_params(
                        {"code": "Observation code, e.g. MG, GLU, K, A1C.", "patient": _PATIENT}, ["code", "patient"]
                    ),
                    "explanation": _EXPLANATION,
                },
                required=["search_params", "explanation"],
            ),
        ),
        ToolDef(
            fhir_vitals_search,
            "fhir_vitals_search",
            "Search a patient's vital-sign Observations by category (e.g. vital-signs), optionally by date.",
            ToolParams(
                properties={
                    "category": _s("Observation category, e.g. vital-signs."),
                    "patient": _s(_PATIENT),
                    "date": _s("Date filter with an optional prefix (ge, le, gt, lt, eq), e.g. ge2023-11-12."),
                },
                required=["category", "patient"],
            ),
        ),
        ToolDef(
            fhir_procedure_search,
            "fhir_procedure_search",
            "Search a patient's Procedures, optionally by code and date, newest first (up to 200).",
            ToolParams(
                properties={
                    "search_params": search_params(
                        {
                            "code": "Procedure code(s), comma-separated for any of several.",
                            "date": "Date filter with an optional prefix, e.g. ge2022-01-01.",
                            "patient": _PATIENT,
                        },
                        ["patient"],
                    ),
                    "explanation": _EXPLANATION,
                },
                required=["search_params", "explanation"],
            ),
        ),
        ToolDef(
            fhir_condition_search,
            "fhir_condition_search",
            "Search a patient's Conditions (problem list), optionally by ICD-10 code (up to 200).",
            ToolParams(
                properties={
                    "search_params": search_params({"code": "ICD-10 code.", "patient": _PATIENT}, ["patient"]),
                    "explanation": _EXPLANATION,
                },
                required=["search_params", "explanation"],
            ),
        ),
        ToolDef(
            fhir_medication_request_search,
            "fhir_medication_request_search",
            "Search a patient's MedicationRequests (orders), optionally by category and date (up to 200).",
            ToolParams(
                properties={
                    "patient": _s(_PATIENT),
                    "category": _s("Category: inpatient, outpatient or community."),
                    "date": _s("Date filter with an optional prefix."),
                },
                required=["patient"],
            ),
        ),
        ToolDef(
            creator("fhir_vitals_create"),
            "fhir_vitals_create",
            "Record a vital sign (FHIR Observation) for a patient.",
            ToolParams(
                properties={
                    "resourceType": _s("Always 'Observation'."),
                    "category": _arr("Categories, e.g. one with a vital-signs coding.", _obj("A CodeableConcept.")),
                    "code": _obj("What was measured, e.g. {'text': 'BP'}."),
                    "effectiveDateTime": _s("When it was measured (ISO 8601 with offset)."),
                    "status": _s("Observation status, e.g. final."),
                    "valueString": _s("The measured value as text, e.g. '118/77 mmHg'."),
                    "subject": _SUBJECT,
                },
                required=[
                    "resourceType",
                    "category",
                    "code",
                    "effectiveDateTime",
                    "status",
                    "valueString",
                    "subject",
                ],
            ),
        ),
        ToolDef(
            creator("fhir_medication_request_create"),
            "fhir_medication_request_create",
            "Create a medication order (FHIR MedicationRequest) for a patient; to discontinue an order, "
            "create one for the same medication with status 'stopped'.",
            ToolParams(
                properties={
                    "resourceType": _s("Always 'MedicationRequest'."),
                    "medicationCodeableConcept": _obj(
                        "The medication: {'coding': [{'system', 'code', 'display'}], 'text': ...}.",
                        {"coding": _arr("Codings.", _CODING), "text": _s("Medication name and strength.")},
                    ),
                    "authoredOn": _s("When the order is written (ISO 8601 with offset)."),
                    "dosageInstruction": _arr(
                        "Dosage: [{'route': ..., 'doseAndRate': [{'doseQuantity': {'value', 'unit'}, "
                        "'rateQuantity': {'value', 'unit'}}]}].",
                        _obj("A Dosage."),
                    ),
                    "status": _s("Order status: active, stopped, ..."),
                    "intent": _s("Order intent, e.g. order."),
                    "subject": _SUBJECT,
                },
                required=[
                    "resourceType",
                    "medicationCodeableConcept",
                    "authoredOn",
                    "dosageInstruction",
                    "status",
                    "intent",
                    "subject",
                ],
            ),
        ),
        ToolDef(
            creator("fhir_service_request_create"),
            "fhir_service_request_create",
            "Create a service order (FHIR ServiceRequest: lab test, imaging, referral, nursing order) for a patient.",
            ToolParams(
                properties={
                    "resourceType": _s("Always 'ServiceRequest'."),
                    "code": _obj(
                        "What is ordered: {'coding': [{'system', 'code', 'display'}], 'text': ...}.",
                        {"coding": _arr("Codings.", _CODING), "text": _s("Label.")},
                    ),
                    "authoredOn": _s("When the order is written (ISO 8601 with offset)."),
                    "status": _s("Order status, e.g. active."),
                    "intent": _s("Order intent, e.g. order."),
                    "priority": _s("Priority: routine, urgent, asap or stat."),
                    "subject": _SUBJECT,
                    "note": _obj("Free-text comment: {'text': ...}.", {"text": _s("The comment.")}),
                    "occurrenceDateTime": _s("When it should happen (ISO 8601 with offset)."),
                },
                required=[
                    "resourceType",
                    "code",
                    "authoredOn",
                    "status",
                    "intent",
                    "priority",
                    "subject",
                    "note",
                    "occurrenceDateTime",
                ],
            ),
        ),
        ToolDef(
            calculator,
            "calculator",
            "Evaluate arithmetic (+ - * / // % **, round, min, max, mean, sqrt, log) and date maths "
            "(date('2023-11-13'), datetime('...T..+00:00'), days(n), hours(n), days_between(a, b), "
            "hours_between(a, b); dates subtract to spans).",
            ToolParams(
                properties={"expression": _s("The expression, at most 500 characters.")}, required=["expression"]
            ),
        ),
        ToolDef(
            finish,
            "finish",
            "Finish the task with your answer as a list (e.g. [42], ['S1234567'], [] when nothing is asked).",
            ToolParams(
                properties={"value": JSONSchema(type="array", description="The answer list.", items=JSONSchema())},
                required=["value"],
            ),
        ),
    ]
    for tool_def in defs:
        tool_def.max_output = 0  # upstream shows whole responses; truncation would corrupt them
    return defs


async def _send(fhir: SampleFhir, method: str, url: str, body: str | None = None):  # noqa: ANN202
    try:
        reply = await fhir.request(method, url, body)
    except httpx.HTTPError as e:
        raise ToolError(f"FHIR request failed: {type(e).__name__}: {e}") from None
    if not reply.ok:
        raise ToolError(f"HTTP {reply.status}: {_diagnostics(reply.text)}")
    return reply


def _json(reply) -> object:  # noqa: ANN001
    try:
        return reply.json()
    except ValueError:
        return reply.text


def _diagnostics(text: str) -> str:
    try:
        issues = json.loads(text).get("issue", [])
        found = "; ".join(str(i.get("diagnostics", "")) for i in issues if isinstance(i, dict))
        return found[:1000] or text[:1000]
    except (ValueError, AttributeError):
        return text[:1000]


def _pick(params: Any, names: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ToolError("search_params must be an object, e.g. {'patient': 'S1234567', 'code': 'MG'}")
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ToolError(f"unknown search parameter(s) {', '.join(unknown)}; allowed: {', '.join(names)}")
    missing = [name for name in required if params.get(name) in (None, "")]
    if missing:
        raise ToolError(f"search_params needs {', '.join(missing)}")
    return {name: params.get(name) for name in names}


def _query(params: dict[str, Any]) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ToolError(f"search parameter {name} must be text, got {type(value).__name__}")
        text = str(value).strip()
        if len(text) > MAX_PARAM_CHARS:
            raise ToolError(f"search parameter {name} is longer than {MAX_PARAM_CHARS} characters")
        query[name] = text
    return query
