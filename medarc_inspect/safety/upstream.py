"""MedSafetyBench's own prompts, read at run time from the authors' pinned files (never copied into the project).

- `upstream_judge_template()`: the judge prompt of `exps/exp02_eval_responses.py` (an f-string) with the medical
  usage policy and rubric of `exps/text_for_gpt_eval.py` put in; slots REQUEST and RESPONSE remain.
- `paper_system_prompt()`: the system prompt the paper gave OpenAI models (`exps/exp01_prompt_models.py`).
- `paper_judge_settings()`: the keywords of the judge's `partial(llm_openai, ...)` call in exp02.

Every file is sha256-pinned; the extracted texts are checked against the lengths and hashes of the spec (§6).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from medarc_inspect.data import DataError, fetch_pinned, read_python_constant
from medarc_inspect.safety.template import Slot, SlotTemplate

COMMIT = "191aa7954b82458079425292730d6cb28a89565d"
REPO = "AI4LIFE-GROUP/med-safety-bench"
TEXT_FOR_GPT_EVAL = ("exps/text_for_gpt_eval.py", "e71e6108bb66a18dea28e4a25eb5b6ecef134b52f7937f10721a0a9e5ff1f605")
EVAL_RESPONSES = ("exps/exp02_eval_responses.py", "f357476babe7eec53a108b298374c9695b912efa17ba5e9d82b10d884f6d83c7")
PROMPT_MODELS = ("exps/exp01_prompt_models.py", "fa710601be3da5c806663e7e82aef564fb5cf4cd254a744e73c2785a51254c78")

POLICY_CHECK = (2036, "9d5f6a2abec0af5bba465e0d57afa1695c27a90507f82b6b4f82eda58820f51a")
RUBRIC_CHECK = (1553, "161f221214f370f955a95106c42d5f9a8c81460ce07ed8ba9d3eee62d8f9b9d1")
PROMPT_CHECK = (5041, "f6bdee8818cb9116472f4a94187db97b3fcb9f6a0f1e0d1ea1160aaf3986b128")  # with the placeholders below
SYSTEM_PROMPT_LENGTH = 507
CHECK_PLACEHOLDERS = {"question": "<HARMFUL_REQUEST>", "response": "<MODEL_RESPONSE>"}
FIELDS = {"usage_policy", "question", "response", "rubric"}


def upstream_url(path: str) -> str:
    return f"https://raw.githubusercontent.com/{REPO}/{COMMIT}/{path}"


def _fetch(pin: tuple[str, str]) -> Path:
    return fetch_pinned(upstream_url(pin[0]), pin[1])


def _checked(name: str, text: str, expected: tuple[int, str], path: Path) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()
    if (len(text), digest) != expected:
        raise DataError(
            f"MedSafetyBench's {name} read from {path} has {len(text)} chars and sha256 {digest}; expected "
            f"{expected[0]} chars and sha256 {expected[1]}. The extraction no longer matches the pinned file."
        )
    return text


def _joined_parts(node: ast.JoinedStr, path: Path) -> list[str | Slot]:
    parts: list[str | Slot] = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value.value)
        elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
            if value.conversion != -1 or value.format_spec is not None:
                raise DataError(f"{path}: field {value.value.id!r} has a conversion or format spec")
            parts.append(Slot(value.value.id))
        else:
            raise DataError(f"{path}: the f-string has a field that is not a plain name (line {value.lineno})")
    return parts


def _assignment(tree: ast.AST, target: str, within: str | None = None) -> ast.expr:
    """The value of the first `target = ...` (inside `def within` if given), in source order."""
    scope: ast.AST = tree
    if within is not None:
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == within]
        if not functions:
            raise DataError(f"no function {within!r} in the MedSafetyBench source")
        scope = functions[0]
    assigns = [
        node
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == target for t in node.targets)
    ]
    if not assigns:
        raise DataError(f"no assignment to {target!r} in the MedSafetyBench source")
    return min(assigns, key=lambda n: (n.lineno, n.col_offset)).value


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        raise DataError(f"cannot parse {path}: {error}") from error


@cache
def upstream_policy_and_rubric() -> tuple[str, str]:
    """`usage_policy_med_harm` and the joined `rubric` f-string of text_for_gpt_eval.py, length/hash checked."""
    path = _fetch(TEXT_FOR_GPT_EVAL)
    policy = read_python_constant(path, "usage_policy_med_harm")
    rubric_node = _assignment(_parse(path), "rubric")
    if not isinstance(rubric_node, ast.JoinedStr):
        raise DataError(f"{path}: 'rubric' is no longer an f-string")
    rubric_parts = _joined_parts(rubric_node, path)
    if any(isinstance(part, Slot) for part in rubric_parts):
        raise DataError(f"{path}: 'rubric' now has fields")
    rubric = "".join(str(part) for part in rubric_parts)
    return (
        _checked("usage policy", policy, POLICY_CHECK, path),
        _checked("rubric", rubric, RUBRIC_CHECK, path),
    )


@cache
def upstream_judge_template() -> SlotTemplate:
    """The authors' judge prompt, exactly, with the policy and rubric filled in and slots REQUEST, RESPONSE."""
    path = _fetch(EVAL_RESPONSES)
    node = _assignment(_parse(path), "eval_prompt", within="eval_using_gpt")
    if not isinstance(node, ast.JoinedStr):
        raise DataError(f"{path}: 'eval_prompt' is no longer an f-string")
    parts = _joined_parts(node, path)
    names = {part.name for part in parts if isinstance(part, Slot)}
    if names != FIELDS:
        raise DataError(f"{path}: 'eval_prompt' has fields {sorted(names)}, expected {sorted(FIELDS)}")
    policy, rubric = upstream_policy_and_rubric()
    fixed = {"usage_policy": policy, "rubric": rubric}
    resolved: list[str | Slot] = []
    for part in parts:
        if isinstance(part, Slot) and part.name in fixed:
            resolved.append(fixed[part.name])
        elif isinstance(part, Slot):
            resolved.append(Slot("REQUEST" if part.name == "question" else "RESPONSE"))
        else:
            resolved.append(part)
    template = SlotTemplate(tuple(resolved))
    rendered = template.render({"REQUEST": CHECK_PLACEHOLDERS["question"], "RESPONSE": CHECK_PLACEHOLDERS["response"]})
    _checked("judge prompt", rendered, PROMPT_CHECK, path)
    return template


def _partial_call(tree: ast.AST, callee: str) -> ast.Call:
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "partial"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == callee
    ]
    if len(calls) != 1:
        raise DataError(f"expected one partial({callee}, ...) call in the MedSafetyBench source, found {len(calls)}")
    return calls[0]


@cache
def paper_judge_settings() -> dict[str, Any]:
    """The paper judge's settings: keywords model_name, sys_prompt, temperature, max_new_tokens (exp02)."""
    path = _fetch(EVAL_RESPONSES)
    call = _partial_call(_parse(path), "llm_openai")
    settings: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is not None:
            try:
                settings[keyword.arg] = ast.literal_eval(keyword.value)
            except ValueError:
                continue
    expected = {"model_name", "sys_prompt", "temperature", "max_new_tokens"}
    if set(settings) != expected:
        raise DataError(f"{path}: the judge's settings are {sorted(settings)}, expected {sorted(expected)}")
    return settings


def _concatenated(node: ast.expr, path: Path) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _concatenated(node.left, path) + _concatenated(node.right, path)
    raise DataError(f"{path}: 'sys_prompt' is no longer a chain of string literals")


@cache
def paper_system_prompt() -> str:
    """The system prompt the paper gave OpenAI models under test (a `+`-chain of literals in exp01)."""
    path = _fetch(PROMPT_MODELS)
    text = _concatenated(_assignment(_parse(path), "sys_prompt"), path)
    if len(text) != SYSTEM_PROMPT_LENGTH:
        raise DataError(f"{path}: the paper's system prompt has {len(text)} chars, expected {SYSTEM_PROMPT_LENGTH}")
    return text
