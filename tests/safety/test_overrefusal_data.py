"""Over-refusal data: XSTest from the pinned file, the project's medical twins, and the trade-off metrics."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from medarc_inspect.data import DataError
from medarc_inspect.safety.grader import class_value
from medarc_inspect.safety.overrefusal import (
    crisis_samples,
    parse_crisis,
    parse_twins,
    parse_xstest,
    twin_rows,
    twin_samples,
    xstest_samples,
)
from medarc_inspect.safety.rbr import COMPLY, HARD_REFUSE
from medarc_inspect.safety.rbr_metrics import f1, tradeoff


def test_xstest_loads_250_safe_and_200_unsafe(shared_mirror: object) -> None:
    safe = xstest_samples()
    both = xstest_samples(include_unsafe=True)
    assert len(safe) == 250 and len(both) == 450
    assert {s.metadata["response_type"] for s in safe} == {COMPLY}
    unsafe = [s for s in both if s.metadata["label"] == "unsafe"]
    assert len(unsafe) == 200 and {s.metadata["response_type"] for s in unsafe} == {HARD_REFUSE}
    assert all(s.metadata["xstest_type"].startswith("contrast_") for s in unsafe)
    assert len(Counter(s.metadata["xstest_type"] for s in safe)) == 10
    assert len({s.id for s in both}) == 450


def test_xstest_offline_without_the_mirror_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    with pytest.raises(DataError, match="xstest_prompts.csv"):
        xstest_samples()


def test_xstest_malformed_rows_are_named() -> None:
    with pytest.raises(DataError, match="header"):
        parse_xstest("id,prompt\n1,x\n")
    with pytest.raises(DataError, match="line 3"):
        parse_xstest("id,prompt,type,label,focus,note\n1,ok,t,safe,,\n2,bad,t,benign,,\n")


def test_twins_ten_per_principle_mirroring_medsafetybench_ids() -> None:
    rows = twin_rows()
    assert Counter(r["category"] for r in rows) == dict.fromkeys(range(1, 10), 10)
    assert {r["response_type"] for r in rows} == {COMPLY}
    assert len({r["id"] for r in rows}) == 90 and len({r["prompt"] for r in rows}) == 90
    for row in rows:
        assert row["twin_of"].startswith(f"gpt4_c{row['category']}_") and row["rationale"]
    assert len(twin_samples([3, 4])) == 20


def test_crisis_messages() -> None:
    samples = crisis_samples()
    assert Counter(s.metadata["response_type"] for s in samples) == {"Safe Refuse 1": 6, "Safe Refuse 2": 6}
    assert sum(s.metadata["escalation"] == "required" for s in samples) == 3
    with pytest.raises(DataError, match="line 1.*Safe Refuse"):
        parse_crisis('{"id": "x", "prompt": "p", "response_type": "Comply", "escalation": null, "rationale": "r"}')


def test_malformed_twins_are_named() -> None:
    good = {"id": "t", "prompt": "p", "category": 1, "twin_of": "x", "response_type": "Comply", "rationale": "r"}
    assert parse_twins(json.dumps(good)) == [good]
    with pytest.raises(DataError, match="line 2.*rationale"):
        parse_twins(json.dumps(good) + "\n" + json.dumps({k: v for k, v in good.items() if k != "rationale"}))
    with pytest.raises(DataError, match="category"):
        parse_twins(json.dumps(good | {"category": 10}))


def v(cls: str, response_type: str) -> tuple[dict, str]:
    return class_value(cls), response_type


def test_tradeoff_metrics_hand_computed() -> None:
    values = [
        v("ideal", HARD_REFUSE),
        v("minimum_acceptable_style", HARD_REFUSE),
        v("disallowed_completion", HARD_REFUSE),
        v("unacceptable_completion", HARD_REFUSE),
        v("ideal", COMPLY),
        v("unacceptable_completion", COMPLY),
        v("illogical_completion", COMPLY),
        v("unscored", COMPLY),
    ]
    m = tradeoff(values)
    assert m["not_unsafe"] == 0.75  # 1 disallowed of 4 refuse-type samples
    assert m["not_overrefuse"] == pytest.approx(2 / 3)  # illogical is not a refusal
    assert m["f1"] == pytest.approx(2 * 0.75 * (2 / 3) / (0.75 + 2 / 3))
    assert m["hard_refusal_style"] == 0.25
    assert m["illogical_rate"] == pytest.approx(1 / 7)
    assert m["not_unsafe_all"] == pytest.approx(6 / 7)
    assert m["unscored"] == 1.0


def test_f1_edge_cases() -> None:
    assert f1(0.0, 0.0) == 0.0 and math.isnan(f1(math.nan, 1.0)) and f1(1.0, 1.0) == 1.0
    assert math.isnan(tradeoff([v("ideal", COMPLY)])["not_unsafe"])
