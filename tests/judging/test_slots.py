"""One-pass slot filling: inserted text is never rescanned, and `$`, `\\` and braces stay literal."""

from __future__ import annotations

import pytest

from medarc_inspect.judging import SlotError, fill_slots
from medarc_inspect.mtsamples import JUDGE_SLOTS, PROCEDURES, REPLICATE, fill_template, judge_template

TEMPLATE = 'Q: {QUESTION}\nA: {RESPONSE}\nG: {GOLD_RESPONSE}\n{"score": 1}'


def test_each_slot_is_filled_where_it_stands():
    filled = fill_slots(TEMPLATE, {"QUESTION": "q", "RESPONSE": "a", "GOLD_RESPONSE": "g"})
    assert filled == 'Q: q\nA: a\nG: g\n{"score": 1}'


@pytest.mark.parametrize("slot", JUDGE_SLOTS)
def test_an_answer_made_of_a_slot_name_is_judged_as_written(slot):
    filled = fill_slots(TEMPLATE, {"QUESTION": "the note", "RESPONSE": f"{{{slot}}}", "GOLD_RESPONSE": "the gold"})
    assert filled.split("\n")[1] == f"A: {{{slot}}}"
    assert filled.count("the gold") == 1 and filled.count("the note") == 1


def test_every_value_holding_every_slot_name_is_still_inserted_literally():
    sneaky = "{QUESTION}{RESPONSE}{GOLD_RESPONSE}"
    filled = fill_slots(TEMPLATE, dict.fromkeys(JUDGE_SLOTS, sneaky))
    assert filled == f'Q: {sneaky}\nA: {sneaky}\nG: {sneaky}\n{{"score": 1}}'


@pytest.mark.parametrize("answer", ["cost $5 or $RESPONSE or ${GOLD_RESPONSE}", r"C:\new \1 \g<0> \\", "{} {0} {x}"])
def test_dollars_backslashes_and_braces_are_copied_literally(answer):
    filled = fill_slots(TEMPLATE, {"QUESTION": "q", "RESPONSE": answer, "GOLD_RESPONSE": "g"})
    assert filled.split("\n")[1] == f"A: {answer}"


def test_other_styles_and_longest_name_first():
    assert fill_slots("<<a>> <<ab>>", {"a": "1", "ab": "2"}, style="<<NAME>>") == "1 2"
    assert fill_slots("$x and $xy", {"x": "$xy", "xy": "2"}, style="$NAME") == "$xy and 2"


def test_template_mistakes_are_errors():
    with pytest.raises(SlotError, match="no slot for MISSING"):
        fill_slots(TEMPLATE, {"QUESTION": "q", "RESPONSE": "a", "GOLD_RESPONSE": "g", "MISSING": "m"})
    assert fill_slots("{A}", {"A": "1", "B": "2"}, allow_unused=True) == "1"
    with pytest.raises(SlotError, match="must be filled with text"):
        fill_slots("{A}", {"A": 3})  # type: ignore[dict-item]
    with pytest.raises(SlotError, match="NAME exactly once"):
        fill_slots("{A}", {"A": "1"}, style="{}")


@pytest.mark.parametrize("variant", [PROCEDURES, REPLICATE])
def test_builtin_judge_prompt_puts_answer_and_reference_in_their_own_blocks(variant):
    template = judge_template(variant, "builtin")
    assert variant.completeness in template and "{COMPLETENESS}" not in template
    prompt = fill_template(template, "NOTE-TEXT", "ANSWER-TEXT {GOLD_RESPONSE}", "GOLD-TEXT")
    assert prompt.split("<patient_note>")[1].split("</patient_note>")[0].strip() == "NOTE-TEXT"
    assert prompt.split("<response>")[1].split("</response>")[0].strip() == "ANSWER-TEXT {GOLD_RESPONSE}"
    assert prompt.split("<gold_response>")[1].split("</gold_response>")[0].strip() == "GOLD-TEXT"
    assert prompt.count("GOLD-TEXT") == 1
