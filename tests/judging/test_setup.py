"""judge_setup: judges resolved and checked when the task is built, one line per problem, recorded truthfully."""

from __future__ import annotations

import importlib.util

import pytest
from inspect_ai.model import GenerateConfig, get_model

from medarc_inspect.judging import JudgeConfigError, judge_names, judge_setup
from medarc_inspect.judging import setup as judge_setup_module
from medarc_inspect.taskargs import TaskArgError

PRESETS = {"pair": ["mockllm/a", "mockllm/b"]}


@pytest.mark.parametrize(
    ("value", "names", "preset"),
    [
        ("mockllm/a", ["mockllm/a"], None),
        ("pair", ["mockllm/a", "mockllm/b"], "pair"),
        ("mockllm/a, mockllm/b", ["mockllm/a", "mockllm/b"], None),
        (["mockllm/a", "together/meta-llama/x"], ["mockllm/a", "together/meta-llama/x"], None),
        (None, [], None),
    ],
)
def test_judge_model_forms(value, names, preset):
    assert judge_names(value, PRESETS) == (names, preset)


@pytest.mark.parametrize("value", ["gpt4", "", 3, ["mockllm/a", 5], "openai/", [], "mockllm/a,,mockllm/b"])
def test_malformed_judge_model_is_one_line_naming_the_argument(value):
    with pytest.raises(TaskArgError, match="-T judge_model=") as caught:
        judge_names(value, PRESETS)
    assert "\n" not in str(caught.value) and "pair" in str(caught.value)


def test_named_judges_are_constructed_and_recorded():
    setup = judge_setup("pair", presets=PRESETS, defaults=GenerateConfig(temperature=0, max_tokens=9), cache=False)
    assert [str(j) for j in setup.judges] == ["mockllm/a", "mockllm/b"]
    meta = setup.metadata()
    assert meta["judges"] == ["mockllm/a", "mockllm/b"] and meta["source"] == "judge_model"
    assert meta["preset"] == "pair" and meta["cache"] is False and meta["max_retries"] == 2
    assert meta["generate_config"] == [{"temperature": 0.0, "max_tokens": 9}] * 2


def test_no_judge_at_all_is_refused():
    with pytest.raises(JudgeConfigError, match="--model-role grader"):
        judge_setup(None)


def test_unknown_provider():
    with pytest.raises(JudgeConfigError, match="unknown model provider 'nosuch'") as caught:
        judge_setup("nosuch/model")
    assert "\n" not in str(caught.value)


def test_missing_provider_package_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openai" else real(name, *a))
    for name in ("openai/gpt-4o-mini", "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"):
        with pytest.raises(JudgeConfigError, match=r"pip install 'medarc-inspect\[openai\]'"):
            judge_setup(name)


def test_missing_credentials_name_the_variable(monkeypatch):
    pytest.importorskip("openai")
    for variable in ("OPENAI_API_KEY", "AZUREAI_OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(JudgeConfigError, match="needs credentials: set OPENAI_API_KEY") as caught:
        judge_setup("openai/gpt-4o-mini")
    assert "\n" not in str(caught.value) and "[bold]" not in str(caught.value)


@pytest.mark.parametrize(("name", "value"), [("judge_cache", "forever"), ("judge_cache", "maybe"), ("judge_cache", 2)])
def test_bad_cache_setting(name, value):
    with pytest.raises(TaskArgError, match=f"-T {name}="):
        judge_setup("mockllm/a", cache=value)


@pytest.mark.parametrize("value", [-1, "2", 1.5, True])
def test_bad_retry_setting(value):
    with pytest.raises(TaskArgError, match="-T judge_max_retries="):
        judge_setup("mockllm/a", max_retries=value)


def test_an_unwritable_inspect_cache_is_refused_only_when_caching(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(JudgeConfigError, match="INSPECT_CACHE_DIR") as caught:
        judge_setup("mockllm/a", cache="1W")
    assert "judge_cache=false" in str(caught.value)
    judge_setup("mockllm/a", cache=False)


def test_a_checked_judge_is_a_constructed_model():
    assert str(judge_setup_module.checked_judge("mockllm/model")) == str(get_model("mockllm/model"))
