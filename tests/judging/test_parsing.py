import pytest

from medarc_inspect.judging import JudgeParseError, as_score, json_candidates, parse_json_reply


def accept_score(candidate: dict) -> float | None:
    return as_score(candidate.get("score"), 1, 5)


def test_fenced_json_is_found_inside_prose():
    reply = 'Here is my rating.\n```json\n{"score": 4, "why": "fine {braces} in text"}\n```\nThanks!'
    assert parse_json_reply(reply, accept_score) == 4.0


def test_last_acceptable_object_wins_when_there_are_two():
    reply = 'First draft {"score": 2} but on reflection {"score": 5}.'
    assert parse_json_reply(reply, accept_score) == 5.0


def test_an_unacceptable_last_object_falls_back_to_an_earlier_one():
    reply = '{"score": 3} and an unrelated {"note": "x"}'
    assert parse_json_reply(reply, accept_score) == 3.0


def test_missing_final_brace_is_repaired_once():
    reply = '{"accuracy": {"score": 4, "explanation": "ok"}'
    [candidate] = list(json_candidates(reply))
    assert candidate == {"accuracy": {"score": 4, "explanation": "ok"}}


def test_braces_inside_strings_do_not_confuse_the_scanner():
    reply = '{"score": "5", "explanation": "uses } and { and \\" quotes"}'
    assert parse_json_reply(reply, accept_score) == 5.0


@pytest.mark.parametrize("value", [0, 6, "six", None, True, "", [4]])
def test_out_of_range_or_non_numeric_scores_are_rejected(value):
    assert as_score(value, 1, 5) is None


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), ("4", 4.0), (" 3.5 ", 3.5), (5.0, 5.0)])
def test_numbers_and_numeric_strings_are_accepted(value, expected):
    assert as_score(value, 1, 5) == expected


def test_no_json_raises_with_a_snippet_of_the_reply():
    with pytest.raises(JudgeParseError, match="I cannot rate this"):
        parse_json_reply("I cannot rate this response.", accept_score)


def test_a_stray_quote_in_prose_before_the_json_does_not_hide_it():
    reply = 'The answer "looks fine overall. {"score": 4} and that is all'
    assert parse_json_reply(reply, lambda d: d.get("score")) == 4
    reply = 'He wrote "don\'t {worry}" and then: {"score": 2}'
    assert parse_json_reply(reply, lambda d: d.get("score")) == 2


def test_a_fenced_block_wins_over_a_later_object_in_prose():
    reply = '```json\n{"score": 5}\n```\nA stricter reviewer might say {"score": 1}.'
    assert parse_json_reply(reply, lambda d: d.get("score")) == 5
