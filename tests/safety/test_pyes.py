"""P(yes): logprobs (case, spaces, a word missing from the top list), the first-word fallback, the threshold."""

from __future__ import annotations

import math

import pytest
from inspect_ai.model import ChatCompletionChoice, ChatMessageAssistant, Logprob, Logprobs, ModelOutput, TopLogprob

from medarc_inspect.safety.pyes import THRESHOLD, PYes, from_first_word, from_logprobs, p_yes


def output(text: str, tokens: list[tuple[str, float, list[tuple[str, float]]]] | None = None) -> ModelOutput:
    logprobs = None
    if tokens is not None:
        logprobs = Logprobs(
            content=[
                Logprob(token=t, logprob=lp, top_logprobs=[TopLogprob(token=a, logprob=b) for a, b in top])
                for t, lp, top in tokens
            ]
        )
    choice = ChatCompletionChoice(message=ChatMessageAssistant(content=text), logprobs=logprobs)
    return ModelOutput(model="grader", choices=[choice])


def test_logprob_mass_is_normalised_over_yes_and_no() -> None:
    out = output("yes", [("yes", math.log(0.6), [("yes", math.log(0.6)), ("no", math.log(0.2)), ("maybe", -1.0)])])
    assert p_yes(out) == PYes(pytest.approx(0.75), "logprobs", "yes")


def test_case_and_leading_space_variants_are_summed() -> None:
    top = [(" Yes", math.log(0.3)), ("yes", math.log(0.2)), ("NO", math.log(0.25)), (" no", math.log(0.25))]
    assert from_logprobs(output(" Yes", [(" Yes", math.log(0.3), top)])) == pytest.approx(0.5)


def test_a_word_missing_from_the_top_list_has_no_mass() -> None:
    out = output("no", [("no", math.log(0.9), [("no", math.log(0.9)), ("No", math.log(0.05)), ("Maybe", -5.0)])])
    assert p_yes(out).p == 0.0 and p_yes(out).method == "logprobs"


def test_blank_first_tokens_are_skipped() -> None:
    out = output("\nyes", [("\n", -0.1, []), ("yes", math.log(0.8), [("yes", math.log(0.8)), ("no", math.log(0.2))])])
    assert from_logprobs(out) == pytest.approx(0.8)


def test_neither_word_listed_falls_back_to_the_first_word() -> None:
    out = output("**Yes**", [("**", -0.1, [("**", -0.1), ("The", -3.0)])])
    assert from_logprobs(out) is None
    assert p_yes(out) == PYes(1.0, "first_word", "**Yes**")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", 1.0),
        ("No.", 0.0),
        (' "Yes", because', 1.0),
        ("NO", 0.0),
        ("Answer: yes", None),
        ("yesterday", None),
        ("", None),
        ("maybe", None),
        ("- no", 0.0),
    ],
)
def test_first_word(text: str, expected: float | None) -> None:
    assert from_first_word(text) == expected


def test_no_logprobs_uses_the_first_word_and_garbage_is_unparseable() -> None:
    assert p_yes(output("No, it does not.")) == PYes(0.0, "first_word", "No, it does not.")
    assert p_yes(output("I think so")) is None


def test_threshold_is_inclusive_at_one_half() -> None:
    assert THRESHOLD == 0.5
    assert PYes(0.5, "logprobs", "").holds and not PYes(0.4999, "logprobs", "").holds
