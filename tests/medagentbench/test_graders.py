"""Each task type's grader (v1 and v2) passes a correct trajectory and fails typical wrong ones.

Trajectories are built from the oracle's plan for a real task on the synthetic EHR, then mutated.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import datetime

import pytest
from tests_support_mab import V1_FILE, V2_FILE, fresh_fhir, rows

from medarc_inspect.medagentbench.backend import synthetic_manifest
from medarc_inspect.medagentbench.baselines import oracle_plan_v1, oracle_plan_v2
from medarc_inspect.medagentbench.graders_v1 import grade_v1
from medarc_inspect.medagentbench.graders_v2 import grade_v2
from medarc_inspect.medagentbench.task_files import task_now
from medarc_inspect.medagentbench.trace import Trace

OTHER = {"reference": "Patient/S0000001"}
Mutation = Callable[[list, list], tuple[list, object]]  # (posts, answer) -> (posts, answer)


def _pick(logic: str, kind: str, action: bool) -> dict:
    table = rows(*(V1_FILE if logic == "v1" else V2_FILE))
    manifest = synthetic_manifest()
    for task_id, row in table.items():
        entry = manifest[f"{logic}/{task_id}"]
        if entry["type"] == kind and (entry["expected_action"] != "none") == action and row.get("eval_MRN"):
            return row
    pytest.skip(f"no {logic} {kind} task with action={action}")


def _grade(logic: str, task: dict, posts: list, answer: object, has_post: bool | None = None) -> bool:
    fhir = fresh_fhir()
    base = fhir.base_url
    trace = Trace(
        result=answer if isinstance(answer, str) or answer is None else json.dumps(answer),
        posts=[(base + kind, payload) for kind, payload in posts],
        has_post=bool(posts) if has_post is None else has_post,
    )
    if logic == "v1":
        return asyncio.run(grade_v1(task, trace, fhir))[0]
    return asyncio.run(grade_v2(task, trace, fhir, task_now(task, "v2")))[0]


def _plan(logic: str, task: dict) -> tuple[list, list]:
    fhir = fresh_fhir()
    if logic == "v1":
        return asyncio.run(oracle_plan_v1(task, fhir))
    return asyncio.run(oracle_plan_v2(task, fhir, task_now(task, "v2")))


def _edit(path: str, value: object, index: int = 0) -> Mutation:
    """Set `path` (dot-separated, digits index lists) in post `index` to `value`."""

    def mutate(posts: list, answer: list) -> tuple[list, object]:
        posts = copy.deepcopy(posts)
        node = posts[index][1]
        *parents, last = path.split(".")
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
        return posts, answer

    return mutate


def missing_post(posts: list, answer: list) -> tuple[list, object]:
    return [], answer


def extra_post(posts: list, answer: list) -> tuple[list, object]:
    return posts + [copy.deepcopy(posts[0])], answer


def wrong_subject(posts: list, answer: list) -> tuple[list, object]:
    return _edit("subject", OTHER)(posts, answer)


ACTION_MUTATIONS: dict[tuple[str, str], list[tuple[str, Mutation]]] = {
    ("v1", "task3"): [
        ("extra POST", extra_post),
        ("wrong code", _edit("code", {"text": "HR"})),
        ("wrong value", _edit("valueString", "118/78 mmHg")),
        ("wrong time", _edit("effectiveDateTime", "2023-11-13T10:16:00+00:00")),
    ],
    ("v1", "task5"): [
        ("extra POST", extra_post),
        ("wrong code", _edit("medicationCodeableConcept.coding.0.code", "0338-1715-41")),
        ("wrong dose", _edit("dosageInstruction.0.doseAndRate.0.doseQuantity.value", 9)),
        ("wrong route", _edit("dosageInstruction.0.route", "PO")),
    ],
    ("v1", "task8"): [
        ("extra POST", extra_post),
        ("wrong code", _edit("code.coding.0.code", "306181000000107")),
        ("note not an object", _edit("note", "Situation: ...")),
        ("wrong priority", _edit("priority", "routine")),
    ],
    ("v1", "task9"): [
        ("extra POST", extra_post),
        ("posts out of order", lambda p, a: (list(reversed(p)), a)),
        ("wrong dose", _edit("dosageInstruction.0.doseAndRate.0.doseQuantity.value", 1)),
        ("wrong code", _edit("code.coding.0.code", "2823-4", index=1)),
        ("wrong recheck time", _edit("occurrenceDateTime", "2023-11-14T09:00:00+00:00", index=1)),
    ],
    ("v1", "task10"): [
        ("extra POST", extra_post),
        ("wrong code", _edit("code.coding.0.code", "4548-5")),
        ("wrong status", _edit("status", "draft")),
    ],
    ("v2", "task1"): [
        ("extra POST", extra_post),
        ("wrong code", _edit("code.coding.0.code", "74176")),
        ("no reason", _edit("note", {"text": "CT please"})),
    ],
    ("v2", "task2"): [
        ("wrong drug", _edit("medicationCodeableConcept", {"text": "enoxaparin 40 mg"})),
        (
            "wrong dose",
            lambda p, a: _edit("dosageInstruction", [])(
                *_edit("medicationCodeableConcept", {"text": "heparin 500 units"})(p, a)
            ),
        ),
    ],
    ("v2", "task4"): [
        ("wrong code", _edit("code", {"text": "remove drain"})),
        ("not an order", _edit("intent", "plan")),
    ],
    ("v2", "task5"): [
        ("wrong code", _edit("code", {"text": "IR referral"}, index=1)),
        ("not active", _edit("status", "draft", index=0)),
    ],
    ("v2", "task6"): [("wrong lab", _edit("code", {"text": "CBC"}, index=1))],
    ("v2", "task7"): [
        ("drug not stopped", _edit("status", "active", index=1)),
        ("wrong resource", _edit("resourceType", "Observation", index=1)),
    ],
    ("v2", "task8"): [
        ("extra POST", extra_post),
        ("wrong drug", _edit("medicationCodeableConcept", {"text": "ibuprofen"})),
    ],
    ("v2", "task9"): [("extra POST", extra_post), ("not an order", _edit("intent", "proposal"))],
    ("v2", "task10"): [("extra POST", extra_post), ("wrong vaccine", _edit("code", {"text": "zoster vaccine"}))],
}

QUERY_CASES: dict[tuple[str, str], list[tuple[str, Callable[[list], object]]]] = {
    ("v1", "task1"): [("wrong MRN", lambda a: ["S0000001"]), ("not a list", lambda a: json.dumps(a[0]))],
    ("v1", "task2"): [("wrong value", lambda a: [a[0] + 1]), ("wrong type", lambda a: [str(a[0])])],
    ("v1", "task4"): [("wrong value", lambda a: [a[0] + 0.5]), ("wrong type", lambda a: [str(a[0])])],
    ("v1", "task6"): [("wrong value", lambda a: [a[0] + 0.2]), ("two values", lambda a: [a[0], a[0]])],
    ("v1", "task7"): [("wrong value", lambda a: [a[0] + 1]), ("no answer", lambda a: None)],
    ("v2", "task3"): [
        ("wrong value", lambda a: [a[0] + 5 if a[0] != -1 else 70, a[1]]),
        ("one value", lambda a: [a[0]]),
        ("not a list", lambda a: "about seventy"),
    ],
}


@pytest.mark.parametrize(("logic", "kind"), sorted(ACTION_MUTATIONS))
def test_action_graders(mab_env, logic: str, kind: str) -> None:
    task = _pick(logic, kind, action=True)
    posts, answer = _plan(logic, task)
    assert posts, f"{task['id']}: the oracle made no POST on an action branch"
    assert _grade(logic, task, posts, answer), f"{task['id']}: the correct trajectory fails"
    for name, mutate in [
        ("missing POST", missing_post),
        ("wrong subject", wrong_subject),
        *ACTION_MUTATIONS[(logic, kind)],
    ]:
        bad_posts, bad_answer = mutate(posts, answer)
        assert not _grade(logic, task, bad_posts, bad_answer), f"{task['id']}: '{name}' passes"


@pytest.mark.parametrize(("logic", "kind"), sorted(ACTION_MUTATIONS))
def test_no_action_branches_fail_on_any_post(mab_env, logic: str, kind: str) -> None:
    if (logic, kind) in (("v1", "task3"), ("v1", "task8")):
        pytest.skip("always an action")
    action_task = _pick(logic, kind, action=True)
    quiet_task = _pick(logic, kind, action=False)
    posts, _ = _plan(logic, action_task)
    posts = [(k, {**p, "subject": {"reference": f"Patient/{quiet_task['eval_MRN']}"}}) for k, p in posts]
    _, answer = _plan(logic, quiet_task)
    assert _grade(logic, quiet_task, [], answer)
    assert not _grade(logic, quiet_task, posts, answer), f"{quiet_task['id']}: a needless POST passes"


@pytest.mark.parametrize(("logic", "kind"), sorted(QUERY_CASES))
def test_query_graders(mab_env, logic: str, kind: str) -> None:
    task = _pick(logic, kind, action=False)
    posts, answer = _plan(logic, task)
    assert not posts
    assert _grade(logic, task, [], answer)
    assert not _grade(logic, task, [], answer, has_post=True), "a POST attempt must fail a query task"
    for name, wrong in QUERY_CASES[(logic, kind)]:
        assert not _grade(logic, task, [], wrong(answer)), f"{task['id']}: '{name}' passes"


def test_v1_answers_for_action_tasks_accept_value_or_empty(mab_env) -> None:
    task = _pick("v1", "task5", action=True)
    posts, answer = _plan("v1", task)
    assert _grade("v1", task, posts, []) and _grade("v1", task, posts, answer)
    assert not _grade("v1", task, posts, [answer[0] + 1])


def test_v2_task1_wall_clock_treats_every_ct_as_old(mab_env) -> None:
    task = _pick("v2", "task1", action=False)
    fhir = fresh_fhir()
    trace = Trace(result="[]", posts=[], has_post=False)
    frozen = asyncio.run(grade_v2(task, trace, fhir, task_now(task, "v2")))[0]
    wall = asyncio.run(grade_v2(task, trace, fhir, datetime.fromisoformat("2026-12-03T00:00:00+00:00")))[0]
    assert frozen and not wall
