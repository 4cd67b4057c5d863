"""The three judge profiles on one table of judge replies, each value derived by reading the upstream code.

Columns: our `exclude` (score_raw, NaN = unscored), `helm` (score_raw = HELM's jury score), `medarc` (score_norm =
MedARC's reward), and how many of HELM's runs would have crashed. A judge is a list of replies (re-asks take the
next one); `API` is a provider error.
"""

from __future__ import annotations

import itertools
import json
import math

import pytest
from inspect_ai.model import ModelOutput, get_model

from medarc_inspect.judging import JudgeAPIError, JudgeSetup
from medarc_inspect.mtsamples import PROFILES, judge_answer

M = "mockllm/model"
API = object()
NAN = math.nan
TEMPLATE = "note {QUESTION} answer {RESPONSE} gold {GOLD_RESPONSE}"


def obj(a, c, l, **extra):  # noqa: E741 - a criteria object with explanations
    verdict = {
        "accuracy": {"score": a, "explanation": "a"},
        "completeness": {"score": c, "explanation": "b"},
        "clarity": {"score": l, "explanation": "c"},
    }
    return json.dumps(verdict | extra)


GOOD = obj(5, 3, 4)
NO_EXPLANATION = json.dumps(
    {"accuracy": {"score": 4, "explanation": "a"}, "completeness": {"score": 4, "explanation": "b"},
     "clarity": {"score": 4}}
)  # fmt: skip
MISSING = json.dumps({"accuracy": {"score": 5, "explanation": "a"}, "completeness": {"score": 3, "explanation": "b"}})
CAPITALISED = json.dumps({k.capitalize(): v for k, v in json.loads(obj(4, 4, 4)).items()})
FLAT = json.dumps({"accuracy": 5, "completeness": 3, "clarity": 4})
NULL = obj(None, 3, 4)
TRUE = obj(True, 3, 4)
TWO_OBJECTS = f"{obj(5, 5, 5)}\nOn reflection, revised:\n{obj(3, 3, 3)}"
FENCED_THEN_PROSE = f"```json\n{obj(5, 5, 5)}\n```\nFor comparison, a harsh reviewer: {obj(1, 1, 1)}"

TABLE = [
    # id, judges (each a list of replies), answer, exclude raw, helm raw, medarc norm, helm crashes
    ("well-formed", [[GOOD]], "plan", 4.0, 4.0, 0.75, 0),
    ("string scores", [[obj("5", "3", "4")]], "plan", 4.0, 4.0, 0.75, 0),
    ("padded strings", [[obj(" 4 ", " 4 ", " 4 ")]], "plan", 4.0, 4.0, 0.75, 0),
    ("float scores", [[obj(4.5, 3, 4)]], "plan", 11.5 / 3, 11 / 3, 8.5 / 12, 0),
    ("float strings", [[obj("4.5", 3, 4)]], "plan", 11.5 / 3, 1.0, 8.5 / 12, 1),
    ("word score", [[obj("four", 3, 4)]], "plan", NAN, 1.0, 5 / 8, 1),
    ("out of range", [[obj(7, 0, -1)]], "plan", NAN, 2.0, 1 / 3, 0),
    ("missing criterion", [[MISSING]], "plan", NAN, 1.0, 0.75, 0),
    ("missing explanation", [[NO_EXPLANATION]], "plan", 4.0, 1.0, 0.75, 0),
    ("capitalised keys", [[CAPITALISED]], "plan", 4.0, 1.0, 0.0, 0),
    ("extra object key", [[obj(5, 5, 5, overall={"score": 1, "explanation": "o"})]], "plan", 5.0, 4.0, 1.0, 0),
    ("extra flat key", [[obj(4, 4, 4, overall=5)]], "plan", 4.0, 1.0, 0.75, 1),
    ("extra key without score", [[obj(4, 4, 4, notes={"explanation": "n"})]], "plan", 4.0, 1.0, 0.75, 1),
    ("flat scores", [[FLAT]], "plan", NAN, 1.0, 0.0, 0),
    ("null score", [[NULL]], "plan", NAN, 1.0, 5 / 8, 1),
    ("boolean score", [[TRUE]], "plan", NAN, 8 / 3, 5 / 12, 0),
    ("prose around", [[f"Here is my verdict: {GOOD} Hope this helps."]], "plan", 4.0, 4.0, 0.75, 0),
    ("stray quote in prose", [[f'The "plan looks fine. {GOOD}']], "plan", 4.0, 4.0, 0.75, 0),
    ("braces in prose", [[f"Scores {{see below}}: {GOOD} {{end}}"]], "plan", 4.0, 1.0, 0.0, 0),
    ("two objects", [[TWO_OBJECTS]], "plan", 3.0, 1.0, 0.5, 0),
    ("fenced then prose object", [[FENCED_THEN_PROSE]], "plan", 5.0, 1.0, 0.0, 0),
    ("truncated final brace", [[GOOD[:-1]]], "plan", 4.0, 4.0, 0.0, 0),
    ("json list", [["[5, 3, 4]"]], "plan", NAN, 1.0, 0.0, 0),
    ("no json, then valid on re-ask", [["I cannot decide.", obj(4, 4, 4)]], "plan", 4.0, 1.0, 0.0, 0),
    ("API error", [[API]], "plan", NAN, 1.0, 0.0, 0),
    ("mixed panel", [[obj(5, 5, 5)], ["no idea"], [API]], "plan", 5.0, 5.0, 0.5, 0),
    ("mixed crash and valid", [[obj(3, 3, 3)], [obj(None, 5, 5)]], "plan", 3.0, 3.0, 0.75, 1),
    ("all failing", [["no idea"], [API]], "plan", NAN, 1.0, 0.0, 0),
    ("empty answer", [[GOOD]], "", 1.0, 1.0, 0.75, 0),
    ("whitespace answer", [[GOOD]], "  \n ", 1.0, 1.0, 0.75, 0),
    ("open think block", [[GOOD]], "<think>still thinking", 1.0, 1.0, 0.75, 0),
]


def scripted_judge(replies: list, calls: list, prompts: list):
    outputs = iter(replies)
    last = replies[-1]

    def reply(input, tools, tool_choice, config):
        calls.append(1)
        prompts.append(input[-1].text)
        text = next(outputs, last)
        if text is API:
            raise JudgeAPIError("HTTP 503 after retries")
        return ModelOutput.from_content(M, text)

    return get_model(M, custom_outputs=reply, memoize=False)


async def run_profile(name: str, judges: list[list], answer: str):
    profile = PROFILES[name]
    calls: list = []
    prompts: list = []
    models = [scripted_judge(replies, calls, prompts) for replies in judges]
    setup = JudgeSetup(models, "judge_model", max_retries=profile.retries(None, 2), cache=False)
    score = await judge_answer(profile, setup, TEMPLATE, "NOTE", answer, "GOLD")
    return score, calls, prompts


def same(actual: float, expected: float) -> bool:
    return math.isnan(actual) if math.isnan(expected) else actual == pytest.approx(expected)


def test_the_table_is_big_enough():
    assert len(TABLE) >= 25


@pytest.mark.parametrize(
    ("label", "judges", "answer", "ours", "helm", "medarc", "crashes"), TABLE, ids=[r[0] for r in TABLE]
)
async def test_each_profile_gives_the_upstream_value(label, judges, answer, ours, helm, medarc, crashes):
    exclude_score, _, _ = await run_profile("exclude", judges, answer)
    helm_score, _, _ = await run_profile("helm", judges, answer)
    medarc_score, _, _ = await run_profile("medarc", judges, answer)
    assert same(exclude_score.value["score_raw"], ours), ("exclude", exclude_score.value)
    assert same(helm_score.value["score_raw"], helm), ("helm", helm_score.value)
    assert same(helm_score.value["score_norm"], (helm - 1) / 4)
    assert same(medarc_score.value["score_norm"], medarc), ("medarc", medarc_score.value)
    assert helm_score.value["upstream_crashes"] == crashes
    assert exclude_score.value["upstream_crashes"] == medarc_score.value["upstream_crashes"] == 0
    if not math.isnan(ours) and exclude_score.value["judges_asked"]:
        assert exclude_score.value["score_norm"] == pytest.approx((ours - 1) / 4)


async def test_only_our_profile_re_asks():
    judges = [["I cannot decide.", "still no", obj(4, 4, 4)]]
    for name, asked in (("exclude", 3), ("helm", 1), ("medarc", 1)):
        _, calls, _ = await run_profile(name, judges, "plan")
        assert len(calls) == asked, name


async def test_an_api_error_is_asked_once_under_every_profile():
    for name in PROFILES:
        score, calls, _ = await run_profile(name, [[API]], "plan")
        assert len(calls) == 1 and score.value["judge_failures"] == 1, name


async def test_empty_answers_are_judged_only_by_medarc_and_get_the_floor_on_every_criterion():
    for name in ("exclude", "helm"):
        score, calls, _ = await run_profile(name, [[GOOD]], "")
        assert calls == [] and score.metadata["empty_output"] is True
        assert {k: score.value[k] for k in ("accuracy", "completeness", "clarity")} == dict.fromkeys(
            ("accuracy", "completeness", "clarity"), 1.0
        )
        assert score.value["score_norm"] == 0.0 and score.value["judges_asked"] == 0
    score, calls, _ = await run_profile("medarc", [[GOOD]], "")
    assert len(calls) == 1 and score.value["score_norm"] == 0.75


async def test_helm_and_medarc_judges_see_the_answer_unstripped():
    for name, seen in (
        ("exclude", "answer plan gold"),
        ("helm", "answer   plan \n gold"),
        ("medarc", "answer   plan \n gold"),
    ):
        _, _, prompts = await run_profile(name, [[GOOD]], "  plan \n")
        assert seen in prompts[0], name


async def test_per_criterion_values_follow_each_profile():
    score, _, _ = await run_profile("helm", [[obj(4.9, 3, 2)], [obj(2, 2, 2)]], "plan")
    assert (score.value["accuracy"], score.value["clarity"]) == (3.0, 2.0)  # int(4.9) = 4
    score, _, _ = await run_profile("medarc", [[obj(9, 3, None)]], "plan")
    assert (score.value["accuracy"], score.value["completeness"], score.value["clarity"]) == (5.0, 3.0, 1.0)


async def test_a_crash_is_counted_as_a_failed_verdict_with_its_cause_logged():
    score, _, _ = await run_profile("helm", [[obj("4.5", 3, 4)]], "plan")
    [verdict] = score.metadata["verdicts"]
    assert verdict["upstream_crash"] is True and "would have crashed" in verdict["error"]
    assert score.value["judge_failures"] == 1


def test_the_profiles_are_the_allowed_judge_failure_values():
    assert list(PROFILES) == ["exclude", "helm", "medarc"]
    assert list(itertools.chain(p.max_retries for p in PROFILES.values())) == [None, 0, 0]
