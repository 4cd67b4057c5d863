"""MedAgentBench v2 and v1: clinical tasks an agent solves against a FHIR server, graded from the server's data.

Recipe: a task row (instruction, context, patient MRN) -> the agent reads the patient's record and, where the
task's rules call for it, writes orders (v2: 11 native tools, at most 8 turns, `finish` ends; v1: the
original GET / POST / FINISH text protocol) -> a binary grader per task type computes the truth from the
sample's own FHIR session and checks the answer and the POSTs.

    inspect eval medarc_inspect/medagentbench_v2 -T baseline=oracle --model mockllm/model   # no key, no Docker
    inspect eval medarc_inspect/medagentbench_v2 --model openai/gpt-4.1
    inspect eval medarc_inspect/medagentbench --model openai/gpt-4o -T prompt=builtin
    inspect eval medarc_inspect/medagentbench_v2 -T fhir_api_base=http://localhost:8080/fhir/ --model ...

By default every sample gets an isolated session of the embedded FHIR server over the synthetic EHR, and
the model sees `http://localhost:8080/fhir/` routed in process to that session.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task

from medarc_inspect import taskargs
from medarc_inspect.medagentbench.agents import MAX_TURNS
from medarc_inspect.medagentbench.backend import FhirBackend, embedded_backend, remote_backend, synthetic_manifest
from medarc_inspect.medagentbench.baselines import BASELINES
from medarc_inspect.medagentbench.dataset import TASK_TYPES, V1_FILES, V2_VARIANTS, WALL_CLOCK, TaskSet, samples
from medarc_inspect.medagentbench.prompts import (
    V2_SYSTEM_PROMPT,
    v1_functions,
    v1_template,
    v1_user_message,
    v2_user_message,
)
from medarc_inspect.medagentbench.scoring import medagentbench_scorer
from medarc_inspect.medagentbench.solver import medagentbench_agent

TASK_VERSION = 1  # bump whenever data processing, prompts or scoring change
TASK1_NOW = ("frozen", WALL_CLOCK)


@task
def medagentbench_v2(
    tasks_variant: str = "new_patient_tasks",
    tasks_path: str | None = None,
    task_types: str | list[str] | None = None,
    baseline: str | None = None,
    fhir_data: str | None = None,
    fhir_api_base: str | None = None,
    v2_task1_now: str = "frozen",
    max_turns: int = MAX_TURNS,
) -> Task:
    """MedAgentBench v2 (PSB 2026): 300 tasks of 10 types, native tool calling with the 11 upstream tools.

    Args:
        tasks_variant: new_patient_tasks (default, 300), new_tasks (10, no context) or test_data_v2 (v1's 300,
            graded with v1 logic).
        tasks_path: a local task file in the upstream schema instead (graded with v2 logic).
        task_types: the types to run, e.g. task1,task5 (exact match).
        baseline: noop (finish at once with []) or oracle (solve through the tools); no model calls.
        fhir_data: serve this directory of NDJSON / Bundle files instead of the synthetic EHR.
        fhir_api_base: use this real FHIR server (e.g. the upstream HAPI image), shared by all samples.
        v2_task1_now: frozen (task1 graded at 2023-11-07T22:47Z) or wall_clock (upstream's behaviour).
        max_turns: model turns per sample (upstream: 8).
    """
    variant = taskargs.one_of("tasks_variant", tasks_variant, V2_VARIANTS)
    path = taskargs.text("tasks_path", tasks_path, optional=True)
    if path is not None:
        task_set = TaskSet("v2", None, path=path, logic="v2")
    else:
        task_set = TaskSet("v2", V2_VARIANTS[variant], logic="v1" if variant == "test_data_v2" else "v2")
    args = _common(task_types, baseline, fhir_data, fhir_api_base, max_turns)
    task1_now = taskargs.one_of("v2_task1_now", v2_task1_now, TASK1_NOW)
    return _task(task_set, "tools", v2_user_message, task1_now=task1_now, **args)


@task
def medagentbench(
    tasks_file: str = "test_data_v2",
    task_types: str | list[str] | None = None,
    prompt: str = "upstream",
    baseline: str | None = None,
    fhir_data: str | None = None,
    fhir_api_base: str | None = None,
    max_turns: int = MAX_TURNS,
) -> Task:
    """MedAgentBench v1 (NEJM AI 2025): the paper's 300 tasks through the original GET / POST / FINISH protocol.

    Args:
        tasks_file: test_data_v2 (the paper's 300, default) or test_data_v1 (100).
        task_types: the types to run, e.g. task1,task5 (exact match).
        prompt: upstream (the authors' prompt, read from the pinned file) or builtin (ours, same rules).
        baseline: noop (FINISH([]) at once) or oracle (POSTs and FINISH through the harness); no model calls.
        fhir_data: serve this directory of NDJSON / Bundle files instead of the synthetic EHR.
        fhir_api_base: use this real FHIR server, shared by all samples.
        max_turns: rounds per sample (upstream's paper setting: 8).
    """
    name = taskargs.one_of("tasks_file", tasks_file, V1_FILES)
    style = taskargs.one_of("prompt", prompt, ("upstream", "builtin"))
    args = _common(task_types, baseline, fhir_data, fhir_api_base, max_turns)
    template, functions = v1_template(style), v1_functions()
    base = args["backend"].base_url

    def render(row: dict) -> str:
        return v1_user_message(template, base, functions, row)

    return _task(TaskSet("v1", V1_FILES[name], logic="v1"), "text", render, task1_now="frozen", **args)


def _common(task_types: Any, baseline: Any, fhir_data: Any, fhir_api_base: Any, max_turns: Any) -> dict[str, Any]:
    """Checks shared by both tasks (one line per mistake), then the FHIR backend (a real server is probed now)."""
    types = list(TASK_TYPES) if task_types is None else taskargs.subset("task_types", task_types, TASK_TYPES)
    chosen = None if baseline is None else taskargs.one_of("baseline", baseline, BASELINES)
    data = taskargs.text("fhir_data", fhir_data, optional=True)
    api_base = taskargs.text("fhir_api_base", fhir_api_base, optional=True)
    turns = taskargs.integer("max_turns", max_turns, minimum=1, maximum=50)
    if data is not None and api_base is not None:
        raise taskargs.TaskArgError("fhir_data", data, "give fhir_data or fhir_api_base, not both")
    if api_base is not None and not api_base.startswith(("http://", "https://")):
        raise taskargs.TaskArgError("fhir_api_base", api_base, "use an http(s) URL such as http://localhost:8080/fhir/")
    backend = remote_backend(api_base) if api_base else embedded_backend(data)
    synthetic = data is None and api_base is None
    return {"task_types": types, "baseline": chosen, "backend": backend, "max_turns": turns, "synthetic": synthetic}


def _task(
    task_set: TaskSet,
    protocol: str,
    render: Any,
    *,
    task_types: list[str],
    baseline: str | None,
    backend: FhirBackend,
    max_turns: int,
    synthetic: bool,
    task1_now: str,
) -> Task:
    dataset = samples(task_set, task_types, render, synthetic_manifest() if synthetic else None, task1_now)
    system = V2_SYSTEM_PROMPT if protocol == "tools" else None  # v1: one user message, no system message
    return Task(
        dataset=dataset,
        solver=medagentbench_agent(backend, protocol, baseline, max_turns, system),
        scorer=medagentbench_scorer(backend, protocol),
        version=TASK_VERSION,
        metadata={"protocol": protocol, "fhir_base": backend.base_url, "shared_state": backend.shared_state},
    )
