"""Every misconfiguration stops the run when the task is built: one line, non-zero exit, no model called.

In-process cases go through `eval()` exactly as the CLI does (the task is built inside the eval); two cases run
the real `inspect eval` command. `medarc-mock` models append to $MEDARC_MOCK_CALLS on every call, so an empty
file proves that nothing was asked.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai import eval

from medarc_inspect import mtsamples
from medarc_inspect.errors import UserFacingError
from medarc_inspect.testing.models import CALLS_ENV

TASK_FILE = Path(mtsamples.__file__)
OK_JUDGE = {"judge_model": "medarc-mock/judge"}


@pytest.fixture
def calls(shared_mirror, tmp_path, monkeypatch) -> Path:
    record = tmp_path / "calls.txt"
    record.touch()
    monkeypatch.setenv(CALLS_ENV, str(record))
    return record


def build_and_run(task: str, args: dict, tmp_path: Path) -> None:
    eval(
        f"{TASK_FILE}@{task}",
        model="medarc-mock/model",
        task_args=args,
        limit=1,
        log_dir=str(tmp_path / "logs"),
        display="none",
    )


BAD_ARGS = [
    ("judge_failure", "foo", "use one of exclude, helm, medarc"),
    ("judge_max_retries", -1, "whole number >= 0"),
    ("judge_max_retries", "2", "whole number >= 0"),
    ("judge_max_retries", 1.5, "whole number >= 0"),
    ("judge_cache", "forever", "expiry"),
    ("judge_cache", "3 weeks", "expiry"),
    ("use_think", "maybe", "true or false"),
    ("use_think", 2, "true or false"),
    ("max_tokens", 0, "whole number >= 1"),
    ("max_tokens", "512", "whole number >= 1"),
    ("judge_prompt", "mine", "use one of builtin, upstream"),
    ("instruction", "Upstream", "use one of builtin, upstream"),
    ("judge_model", "gpt4", "not a model name"),
    ("judge_model", 7, "<provider>/<model>"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_ARGS, ids=[f"{n}={v!r}" for n, v, _ in BAD_ARGS])
def test_a_bad_task_argument_stops_the_run_before_any_model_call(calls, tmp_path, name, value, allowed):
    with pytest.raises(UserFacingError) as caught:
        build_and_run("mtsamples_procedures", OK_JUDGE | {name: value}, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"-T {name}=") and allowed in message and "\n" not in message
    assert calls.read_text() == ""


def test_truncate_1000_maybe_is_not_true(calls, tmp_path):
    with pytest.raises(UserFacingError, match=r"-T truncate_1000='maybe' is invalid: use true or false"):
        build_and_run("mtsamples_replicate", OK_JUDGE | {"truncate_1000": "maybe"}, tmp_path)
    assert calls.read_text() == ""


def test_unknown_provider(calls, tmp_path):
    with pytest.raises(UserFacingError, match="unknown model provider 'nosuch'") as caught:
        build_and_run("mtsamples_procedures", {"judge_model": "nosuch/model"}, tmp_path)
    assert "--model-role grader=" in str(caught.value) and calls.read_text() == ""


def test_missing_judge_package(calls, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "anthropic" else real(name, *a))
    with pytest.raises(UserFacingError, match=r"pip install 'medarc-inspect\[anthropic\]'"):
        build_and_run("mtsamples_procedures", {"judge_model": "anthropic/claude-3-7-sonnet-20250219"}, tmp_path)
    assert calls.read_text() == ""


def test_missing_judge_key_with_the_default_judge(calls, tmp_path, monkeypatch):
    pytest.importorskip("openai")
    for variable in ("OPENAI_API_KEY", "AZUREAI_OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(UserFacingError, match="judge openai/gpt-4o-mini needs credentials: set OPENAI_API_KEY"):
        build_and_run("mtsamples_procedures", {}, tmp_path)
    assert calls.read_text() == ""


def test_preset_jury_is_checked_judge_by_judge(calls, tmp_path, monkeypatch):
    pytest.importorskip("openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-used")
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(UserFacingError, match="together/meta-llama/Llama-3.3-70B-Instruct-Turbo needs credentials"):
        build_and_run("mtsamples_procedures", {"judge_model": "helm"}, tmp_path)
    assert calls.read_text() == ""


def test_unwritable_inspect_cache(calls, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(UserFacingError, match="Inspect cache directory cannot be written"):
        build_and_run("mtsamples_procedures", OK_JUDGE, tmp_path)
    assert calls.read_text() == ""
    build_and_run("mtsamples_procedures", OK_JUDGE | {"judge_cache": False}, tmp_path)  # caching off: it runs
    assert calls.read_text().splitlines() == ["medarc-mock/model", "medarc-mock/judge"]


def test_a_good_configuration_does_call_the_models(calls, tmp_path):
    build_and_run("mtsamples_procedures", OK_JUDGE | {"judge_failure": "helm", "use_think": "false"}, tmp_path)
    assert calls.read_text().splitlines() == ["medarc-mock/model", "medarc-mock/judge"]


# --- the real command ----------------------------------------------------------------------------------------------
def inspect_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    inspect = Path(sys.executable).with_name("inspect")
    command = [str(inspect), "eval", "medarc_inspect/mtsamples_procedures", "--model", "medarc-mock/model"]
    command += ["--limit", "1", "--log-dir", str(tmp_path / "logs"), *args]
    # a wide terminal, so that rich does not wrap the one line
    full_env = os.environ | {"PWD": str(tmp_path), "COLUMNS": "400"} | (env or {})
    return subprocess.run(command, capture_output=True, text=True, env=full_env, cwd=tmp_path, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_cli_bad_argument_is_one_line_and_a_failed_exit(calls, tmp_path):
    result = inspect_cli(tmp_path, "-T", "judge_max_retries=-1", "-T", "judge_model=medarc-mock/judge")
    assert result.returncode != 0
    assert one_line(result) == "-T judge_max_retries=-1 is invalid: use a whole number >= 0"
    assert calls.read_text() == ""


def test_cli_missing_key_is_one_line_and_a_failed_exit(calls, tmp_path):
    pytest.importorskip("openai")
    env = {"OPENAI_API_KEY": "", "AZUREAI_OPENAI_API_KEY": ""}
    result = inspect_cli(tmp_path, "-T", "judge_cache=1W", env=env)
    assert result.returncode != 0
    line = one_line(result)
    assert "judge openai/gpt-4o-mini needs credentials: set OPENAI_API_KEY" in line and "Traceback" not in line
    assert calls.read_text() == ""
