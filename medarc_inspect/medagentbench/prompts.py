"""Prompts: our own v2 system prompt, our own v1 protocol text, and the authors' v1 prompt read at run time.

`prompt="upstream"` (v1) takes the module constant `MedAgentBench_prompt` from the pinned upstream file with
`ast` (never executed, never copied here) and fills it with `str.format(api_base, functions, context,
question)`; the function list is `funcs_v1.json`, also pinned.
"""

from __future__ import annotations

import json

from medarc_inspect.data import DataError, PinnedFile, fetch_all, read_python_constant
from medarc_inspect.medagentbench.task_files import V1_BASE

V1_PROMPT_FILE = PinnedFile(
    "https://raw.githubusercontent.com/stanfordmlgroup/MedAgentBench/"
    "99260117137b09f04837a8c18d18a1107efa55ae/src/server/tasks/medagentbench/__init__.py",
    "d31253d5ea40c033d64e1b43599b4a258de55c3512aab79f66c623a488116668",
)
V1_FUNCS_FILE = PinnedFile(
    V1_BASE + "funcs_v1.json", "c977266db5eca75182c0d12cac1962b33ae6b5a54b9029ceb104e1a93b4c38c1"
)
V1_PROMPT_CONSTANT = "MedAgentBench_prompt"
V1_TEMPLATE_FIELDS = ("api_base", "functions", "context", "question")

V2_SYSTEM_PROMPT = """\
You are a clinical assistant working in a hospital's electronic health record (a FHIR R4 server), \
reached only through the tools you are given.

How to work:
- First make a short plan: what you need to look up, and what you may need to order or record.
- Use the search tools to read the patient's data. Pass the patient's MRN (for example S1234567). Read the \
dates in the results carefully and compare them with the current time given in the task, not today's date.
- Use the calculator for every arithmetic or date computation (averages, doses, time differences); do not \
do sums in your head.
- Create orders or records only when the task's rules call for them, with the create tools; fill every field \
the task specifies (codes, status, intent, subject {"reference": "Patient/<MRN>"}, times in ISO 8601 with an \
offset). To discontinue a medication, create a MedicationRequest for it with status "stopped".
- Always end by calling finish exactly once. Its value is a list of the answers asked for, typed as numbers \
or text as appropriate, without units (for example [7.2] or ["S1234567"] or [62.5, 64.0]); use [] when the \
task asks for no value, and -1 for a value that is not available.
"""

V1_BUILTIN_PROMPT = """\
You are an assistant that answers questions and completes tasks in a hospital's FHIR R4 server at {api_base}.

Reply with exactly one of these three forms, and nothing else (one call per reply):
1. To read data: a line `GET <url>?<name>=<value>&<name>=<value>...` (the answer is the server's JSON reply).
2. To write data: a line `POST <url>` followed, on the next lines, by the JSON body of the resource.
3. When every question is answered and every requested action is done: `FINISH([answer1, answer2, ...])`, \
where the list is valid JSON.

Use {api_base} as the base of every URL (for example {api_base}Observation?patient=S1234567&code=MG).
The functions you may call, as JSON:
{functions}

Context: {context}
Question: {question}"""


def v1_functions() -> list[dict]:
    """`funcs_v1.json`: the nine GET/POST functions shown to the v1 model."""
    [path] = fetch_all([V1_FUNCS_FILE], label="MedAgentBench v1 function list")
    try:
        funcs = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is not valid JSON: {e}.") from None
    if not isinstance(funcs, list) or not all(isinstance(f, dict) and "name" in f for f in funcs):
        raise DataError(f"{path} is not a list of function objects.")
    return funcs


def v1_template(prompt: str) -> str:
    """The v1 user-message template: the authors' (`upstream`) or ours (`builtin`)."""
    if prompt == "builtin":
        return V1_BUILTIN_PROMPT
    [path] = fetch_all([V1_PROMPT_FILE], label="MedAgentBench v1 prompt")
    template = read_python_constant(path, V1_PROMPT_CONSTANT)
    if not isinstance(template, str) or any("{" + name + "}" not in template for name in V1_TEMPLATE_FIELDS):
        raise DataError(f"{path}: {V1_PROMPT_CONSTANT} is not a template with {', '.join(V1_TEMPLATE_FIELDS)}.")
    return template


def v1_user_message(template: str, api_base: str, functions: list[dict], task: dict) -> str:
    return template.format(
        api_base=api_base, functions=json.dumps(functions), context=task["context"], question=task["instruction"]
    )


def v2_user_message(task: dict) -> str:
    text = f"<instruction>{task['instruction']}</instruction>"
    if task["context"]:
        text += f"\n<context>{task['context']}</context>"
    return text
