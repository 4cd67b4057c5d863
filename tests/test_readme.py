"""The README's quick start stays true: install, one offline eval, and the test command CI runs."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_first_block_is_one_install_and_one_eval():
    install, run = BLOCKS[0].strip().splitlines()
    assert install == "pip install ."
    assert " inspect eval " in f" {run} " and "--model mockllm/model" in run


def test_ci_runs_exactly_the_readme_test_command():
    test_command = BLOCKS[2].strip().splitlines()[-1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


OFFLINE_MODEL = re.compile(r"^(mockllm|medarc-mock)/")


def offline_eval_lines() -> list[str]:
    """Every `inspect eval` line of the README whose models are all offline (those run here as written)."""
    lines = [line.strip() for block in BLOCKS for line in block.splitlines()]
    evals = [line for line in lines if re.match(r"^(\w+=\S+ )*inspect eval ", line)]

    def models(line: str) -> list[str]:
        words = shlex.split(line)
        named = [words[i + 1] for i, word in enumerate(words[:-1]) if word in ("--model", "--model-role")]
        return [name.split("=", 1)[-1] for name in named]

    return [line for line in evals if models(line) and all(OFFLINE_MODEL.match(m) for m in models(line))]


def run_readme_eval(line: str, log_dir: Path) -> subprocess.CompletedProcess:
    words = shlex.split(line)
    env = dict(os.environ, MEDARC_INSPECT_OFFLINE="1")
    while "=" in words[0]:  # leading VAR=value assignments, relative paths taken from the repository root
        name, value = words.pop(0).split("=", 1)
        env[name] = str((ROOT / value).resolve()) if name == "MEDARC_INSPECT_MIRROR" else value
    if "MEDARC_INSPECT_MIRROR" in env and not Path(env["MEDARC_INSPECT_MIRROR"]).is_dir():
        pytest.skip("the README's mirror path does not exist here")
    assert words[:2] == ["inspect", "eval"]
    inspect_cli = Path(sys.executable).with_name("inspect")
    command = [str(inspect_cli), *words[1:], "--log-dir", str(log_dir), "--display", "plain"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_quick_start_eval_runs_offline(shared_mirror, tmp_path):
    result = run_readme_eval(BLOCKS[0].strip().splitlines()[1], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [info] = list_eval_logs(str(tmp_path))
    log = read_eval_log(info)
    assert log.status == "success"
    assert log.samples and len(log.samples) == 5
    assert log.results is not None and log.results.scores


@pytest.mark.parametrize("line", offline_eval_lines()[1:] or [pytest.param("", marks=pytest.mark.skip)])
def test_every_offline_readme_eval_runs(line, shared_mirror, tmp_path):
    """Each further README command with offline models runs as written and logs a successful eval."""
    assert "--limit" in line, "an offline README command must carry --limit, so this test stays short"
    result = run_readme_eval(line, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    logs = [read_eval_log(info) for info in list_eval_logs(str(tmp_path))]
    assert logs and all(log.status == "success" for log in logs), [log.error for log in logs]


def test_task_file_loads_by_path(shared_mirror, tmp_path, monkeypatch):
    """`inspect eval medarc_inspect/mtsamples.py` loads the file outside the package import system."""
    from inspect_ai import eval

    monkeypatch.chdir(ROOT)
    logs = eval(
        "medarc_inspect/mtsamples.py@mtsamples_procedures",
        model="mockllm/model",
        model_roles={"grader": "medarc-mock/judge"},
        limit=1,
        log_dir=str(tmp_path),
        display="none",
    )
    assert [log.status for log in logs] == ["success"]
