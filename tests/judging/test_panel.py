import itertools
import json

import httpx
import pytest
from inspect_ai.model import ModelOutput, get_model

from medarc_inspect.judging import (
    JudgeAPIError,
    JudgeCallError,
    JudgeConfigError,
    JudgePanel,
    JudgeParseError,
    is_judge_api_error,
    parse_json_reply,
    resolve_judges,
)

M = "mockllm/model"


def scripted(*replies: str, repeat_last: bool = True):
    outputs = [ModelOutput.from_content(M, r) for r in replies]
    if repeat_last:
        outputs = itertools.chain(outputs, itertools.repeat(outputs[-1]))
    return get_model(M, custom_outputs=outputs, memoize=False)


def parse_score(reply: str) -> int:
    return parse_json_reply(reply, lambda d: d.get("score") if isinstance(d.get("score"), int) else None)


async def test_all_judges_answer_and_each_verdict_is_recorded():
    panel = JudgePanel([scripted('{"score": 2}'), scripted('{"score": 5}')], cache=False)
    verdicts = await panel.ask("rate this", parse_score)
    assert [v.parsed for v in verdicts] == [2, 5]
    assert [v.judge_index for v in verdicts] == [0, 1]
    assert all(v.ok and v.attempts == 1 and v.error is None for v in verdicts)


async def test_an_unparseable_reply_is_asked_again_and_both_replies_are_kept():
    panel = JudgePanel([scripted("no idea", '{"score": 4}')], max_retries=2, cache=False)
    [verdict] = await panel.ask("rate this", parse_score)
    assert verdict.ok and verdict.parsed == 4
    assert verdict.attempts == 2
    assert verdict.replies == ["no idea", '{"score": 4}']


async def test_retries_are_bounded_and_the_failure_is_labelled():
    panel = JudgePanel([scripted("still no idea")], max_retries=1, cache=False)
    [verdict] = await panel.ask("rate this", parse_score)
    assert not verdict.ok
    assert verdict.attempts == 2
    assert verdict.error_kind == "unparseable"
    assert "still no idea" in verdict.error


async def test_retries_bypass_the_cache_but_reruns_replay_it(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path))
    calls = []

    def reply(input, tools, tool_choice, config):
        calls.append(1)
        text = "garbled" if len(calls) == 1 else json.dumps({"score": 3})
        return ModelOutput.from_content(M, text)

    judge = get_model(M, custom_outputs=reply, memoize=False)
    first = await JudgePanel([judge], cache=True, cache_scope="t1").ask("same prompt", parse_score)
    assert first[0].parsed == 3 and len(calls) == 2  # the re-ask reached the model
    again = await JudgePanel([judge], cache=True, cache_scope="t1").ask("same prompt", parse_score)
    assert again[0].parsed == 3 and again[0].attempts == 2
    assert len(calls) == 2  # both attempts replayed from the cache


def failing(error: BaseException, calls: list | None = None):
    def boom(input, tools, tool_choice, config):
        if calls is not None:
            calls.append(1)
        raise error

    return get_model(M, custom_outputs=boom, memoize=False)


PROVIDER_ERRORS = [
    JudgeAPIError("service unavailable"),
    ConnectionError("service unavailable"),
    TimeoutError("service unavailable"),
    httpx.HTTPStatusError(
        "service unavailable", request=httpx.Request("POST", "https://x"), response=httpx.Response(500)
    ),
]


@pytest.mark.parametrize("error", PROVIDER_ERRORS, ids=lambda e: type(e).__name__)
async def test_a_provider_error_is_counted_once_not_raised_and_not_re_asked(error):
    calls = []
    panel = JudgePanel([failing(error, calls)], max_retries=2, cache=False)
    [verdict] = await panel.ask("rate this", parse_score)
    assert verdict.error_kind == "api_error" and not verdict.ok
    assert "service unavailable" in verdict.error
    assert verdict.to_log()["error_kind"] == "api_error"
    assert len(calls) == 1 and verdict.attempts == 1


@pytest.mark.parametrize(
    "error", [PermissionError("read-only cache"), OSError("disk full"), ValueError("bad setting"), RuntimeError("x")]
)
async def test_a_local_failure_stops_the_run_with_its_cause(error):
    panel = JudgePanel([scripted('{"score": 2}'), failing(error)], cache=False)
    with pytest.raises(JudgeCallError, match="not a judge failure") as caught:
        await panel.ask("rate this", parse_score)
    assert caught.value.__cause__ is error and str(error) in str(caught.value)


def test_provider_errors_are_told_from_local_ones():
    assert all(is_judge_api_error(e) for e in PROVIDER_ERRORS)
    assert not is_judge_api_error(PermissionError("x")) and not is_judge_api_error(KeyError("x"))


def test_without_a_role_or_a_judge_model_there_is_no_silent_self_judging():
    with pytest.raises(JudgeConfigError, match="--model-role grader"):
        resolve_judges(None)


def test_judge_model_names_are_used_when_no_role_is_bound():
    judges = resolve_judges(["mockllm/a", "mockllm/b"])
    assert [str(j) for j in judges] == ["mockllm/a", "mockllm/b"]


def test_negative_retries_are_rejected():
    with pytest.raises(JudgeConfigError):
        JudgePanel([], max_retries=-1)


def test_parse_error_type_is_exported():
    with pytest.raises(JudgeParseError):
        parse_score("nothing")
