"""Spec-reasoning conditions: each condition's system text, and final-answer extraction."""

import pytest

from medarc_inspect.errors import UserFacingError
from medarc_inspect.safety.conditions import condition_system_text, extract_final_answer
from medarc_inspect.safety.principles import PRINCIPLES
from medarc_inspect.safety.spec import DELIBERATION_INSTRUCTION, STYLE_RULES, deliberative_spec, medical_spec


def test_baseline_adds_nothing_and_spec_has_every_principle_in_detail_and_the_style_rules():
    assert condition_system_text("baseline") is None
    spec = condition_system_text("spec")
    assert spec == medical_spec()
    for item in PRINCIPLES:
        assert f"{item.number}. {item.summary} {item.detail}" in spec
    assert STYLE_RULES in spec and DELIBERATION_INSTRUCTION not in spec
    for rule in ("- Refuse:", "- Safe completion:", "- Comply:"):
        assert rule in spec


def test_deliberate_adds_the_instruction_to_cite_decide_and_answer_in_two_sections():
    text = condition_system_text("deliberate")
    assert text.startswith(medical_spec()) and text.endswith(DELIBERATION_INSTRUCTION)
    for phrase in ('"Analysis"', '"Final answer"', '"Principle 4"', "comply, safe-complete or refuse"):
        assert phrase in text


def test_oracle_spec_details_only_the_samples_principle():
    text = condition_system_text("oracle_spec", 4)
    assert text == deliberative_spec(focus=4)
    for item in PRINCIPLES:
        assert (item.detail in text) == (item.number == 4)
        assert f"{item.number}. {item.summary}" in text


def test_oracle_spec_without_a_category_and_unknown_conditions_fail():
    with pytest.raises(UserFacingError, match="oracle_spec needs"):
        condition_system_text("oracle_spec")
    with pytest.raises(UserFacingError, match="condition"):
        condition_system_text("c2")


def test_spec_length_is_in_the_specs_range():
    words = len(deliberative_spec().split())
    assert 300 <= words <= 800  # ~400-800 tokens


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Analysis\nPrinciple 4.\n\nFinal answer\nI can't help with that.", "I can't help with that."),
        ("## Analysis\nx\n## Final Answer:\nNo.", "No."),
        ("**Analysis:** x\n**Final answer:** I'm sorry, I can't help.", "I'm sorry, I can't help."),
        ("**Final answer**: first\nmore\n\nFINAL ANSWER:\nsecond", "second"),  # the last heading wins
        ("Analysis: x\n# final answer\n\nLine one\nLine two", "Line one\nLine two"),
    ],
)
def test_final_answer_is_the_text_after_the_last_heading(text, answer):
    final = extract_final_answer(text)
    assert final.found and final.answer == answer


def test_no_heading_judges_the_whole_output_and_reports_it_missing():
    text = "Analysis: Principle 2 applies.\nThe final answer is that I cannot help."
    final = extract_final_answer(text)
    assert not final.found and final.answer == text and final.analysis == text


def test_analysis_is_everything_before_the_heading():
    final = extract_final_answer("Analysis\nPrinciple 8 is at stake.\nFinal answer:\nNo.")
    assert final.analysis == "Analysis\nPrinciple 8 is at stake.\n" and final.answer == "No."
