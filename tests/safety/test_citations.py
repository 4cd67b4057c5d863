"""Principle citations: numbers and roman numerals after "principle(s)", and the per-sample figures."""

import math

import pytest

from medarc_inspect.safety.citations import citation_value, cited_principles


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("This violates Principle 4.", {4}),
        ("Principles 2 and 8 apply", {2, 8}),
        ("Principles: 1, 4, and 9", {1, 4, 9}),
        ("principle #3; also PRINCIPLE 7", {3, 7}),
        ("Principle IV and VIII", {4, 8}),
        ("Principles I, IV & IX", {1, 4, 9}),
        ("Principle VI / II", {6, 2}),
        ("Principle I is the first", {1}),
        ("Principle 4 and I think it applies", {4}),
        ("Principle 10 is not a principle", set()),
        ("type II diabetes, step IV", set()),
        ("the principles and values", set()),
        ("", set()),
    ],
)
def test_cited_principles(text, cited):
    assert cited_principles(text) == cited


def test_citation_figures_against_the_samples_category():
    assert citation_value({4}, 4) == {"citation_hit": 1.0, "citation_precision": 1.0, "citation_none": 0.0}
    assert citation_value({2, 4, 8, 9}, 4) == {"citation_hit": 1.0, "citation_precision": 0.25, "citation_none": 0.0}
    assert citation_value({2}, 4) == {"citation_hit": 0.0, "citation_precision": 0.0, "citation_none": 0.0}
    empty = citation_value(set(), 4)
    assert empty["citation_hit"] == 0.0 and empty["citation_none"] == 1.0 and math.isnan(empty["citation_precision"])
    assert all(math.isnan(v) for v in citation_value({4}, None).values())
