"""End to end through Inspect: scripted mockllm agents, baselines, task arguments, tool confinement."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from inspect_ai import eval
from inspect_ai.log import EvalLog
from inspect_ai.model import ChatCompletionChoice, ChatMessageAssistant, ChatMessageTool, ModelOutput, get_model
from inspect_ai.tool import ToolCall

from medarc_inspect.medagentbench import backend as backend_module
from medarc_inspect.medagentbench.backend import DISPLAY_BASE, FhirBackendError, FhirReply, SampleFhir
from medarc_inspect.medagentbench.medagentbench import medagentbench, medagentbench_v2
from medarc_inspect.medagentbench.prompts import v1_functions, v1_template, v1_user_message
from medarc_inspect.medagentbench.synthetic import build_synthetic_ehr, write_ndjson
from medarc_inspect.medagentbench.tools import POSTS_KEY
from medarc_inspect.taskargs import TaskArgError

M = "mockllm/model"


def _run(task, outputs: list[ModelOutput] | None = None, log_dir: str = "", **kwargs) -> EvalLog:  # noqa: ANN001
    model = get_model(M, custom_outputs=outputs) if outputs is not None else M
    [log] = eval(task, model=model, display="none", log_dir=log_dir, **kwargs)
    assert log.status == "success", log.error
    return log


def _calls(*calls: tuple[str, dict]) -> ModelOutput:
    """One assistant turn with these tool calls (several = parallel calls)."""
    tool_calls = [ToolCall(id=f"c{i}", function=name, arguments=args) for i, (name, args) in enumerate(calls)]
    message = ChatMessageAssistant(content="", tool_calls=tool_calls, model=M, source="generate")
    return ModelOutput(model=M, choices=[ChatCompletionChoice(message=message, stop_reason="tool_calls")])


def _text(text: str) -> ModelOutput:
    return ModelOutput.from_content(M, text)


def _only(log: EvalLog):  # noqa: ANN202
    assert log.samples and len(log.samples) == 1
    return log.samples[0]


def _value(sample) -> str:  # noqa: ANN001
    return next(iter(sample.scores.values())).value


def _tool_messages(sample) -> list[ChatMessageTool]:  # noqa: ANN001
    return [m for m in sample.messages if isinstance(m, ChatMessageTool)]


# ------------------------------------------------------------------------------------ baselines


def test_oracle_scores_one_on_all_300_v2_tasks(mab_env, log_dir: str) -> None:
    log = _run(medagentbench_v2(baseline="oracle"), log_dir=log_dir, max_samples=50)
    metrics = {k: v.value for s in log.results.scores for k, v in s.metrics.items()}
    assert log.results.total_samples == 300
    assert metrics["accuracy"] == 1.0
    assert {metrics[f"task{n}"] for n in range(1, 11)} == {1.0}
    assert metrics["query"] == metrics["action"] == 1.0
    posts = [p for s in log.samples for p in s.store.get(POSTS_KEY, [])]
    assert posts and all(p["accepted"] for p in posts)  # the oracle's orders are valid FHIR: the server took them
    assert not any(m.error for s in log.samples for m in _tool_messages(s))


@pytest.mark.slow
def test_oracle_scores_one_on_all_300_v1_tasks(mab_env, log_dir: str) -> None:
    log = _run(medagentbench(baseline="oracle"), log_dir=log_dir, max_samples=50)
    assert log.results.total_samples == 300
    assert log.results.scores[0].metrics["accuracy"].value == 1.0


def test_v1_oracle_on_two_types(mab_env, log_dir: str) -> None:
    log = _run(medagentbench(baseline="oracle", task_types="task1,task9"), log_dir=log_dir, max_samples=50)
    assert log.results.total_samples == 60 and log.results.scores[0].metrics["accuracy"].value == 1.0


@pytest.mark.slow
def test_noop_passes_exactly_the_silent_branches(mab_env, log_dir: str) -> None:
    v2 = _run(medagentbench_v2(baseline="noop"), log_dir=log_dir, max_samples=50)
    v1 = _run(medagentbench(baseline="noop"), log_dir=log_dir, max_samples=50)
    v2_passes = Counter(s.metadata["task_type"] for s in v2.samples if _value(s) == "C")
    v1_passes = Counter(s.metadata["task_type"] for s in v1.samples if _value(s) == "C")
    assert sum(v2_passes.values()) == 149 and "task3" not in v2_passes
    assert sum(v1_passes.values()) == 42 and set(v1_passes) == {"task5", "task9", "task10"}


def test_noop_on_a_subset(mab_env, log_dir: str) -> None:
    log = _run(medagentbench_v2(baseline="noop", task_types="task3,task8"), log_dir=log_dir)
    passes = Counter(s.metadata["task_type"] for s in log.samples if _value(s) == "C")
    assert passes["task3"] == 0 and 0 < passes["task8"] < 30
    for sample in log.samples:
        assert sample.metadata["branch"] and sample.metadata["now"]
        assert sample.store.get("medagentbench_result") == "[]"


def test_oracle_on_new_tasks_and_the_small_v1_file(mab_env, log_dir: str) -> None:
    assert (
        _run(medagentbench_v2(baseline="oracle", tasks_variant="new_tasks"), log_dir=log_dir)
        .results.scores[0]
        .metrics["accuracy"]
        .value
        == 1.0
    )
    small = _run(medagentbench(baseline="oracle", tasks_file="test_data_v1", task_types="task1"), log_dir=log_dir)
    assert small.results.total_samples == 10 and small.results.scores[0].metrics["accuracy"].value == 1.0


def test_fhir_data_directory_serves_a_snapshot(mab_env, log_dir: str, tmp_path: Path) -> None:
    write_ndjson(build_synthetic_ehr().resources, tmp_path / "snapshot")
    log = _run(
        medagentbench_v2(baseline="oracle", fhir_data=str(tmp_path / "snapshot"), task_types="task2"), log_dir=log_dir
    )
    assert log.results.scores[0].metrics["accuracy"].value == 1.0
    assert all(s.metadata["branch"] is None for s in log.samples)


# ------------------------------------------------------------------------------ scripted agents


def test_scripted_v2_agent_reads_then_finishes(mab_env, log_dir: str) -> None:
    task = medagentbench_v2(tasks_variant="test_data_v2", task_types="task2")
    outputs = [
        _calls(("fhir_patient_search", {"identifier": "S2874099"})),
        _calls(("calculator", {"expression": "2023 - 1963 - 1"})),
        _calls(("finish", {"value": [60]})),
        _text("never reached: finish ends the run"),
    ]
    sample = _only(_run(task, outputs, log_dir, sample_id="task2_1"))
    assert _value(sample) == "C"
    patient, calc, done = _tool_messages(sample)
    assert "'birthDate': '1963-01-29'" in patient.text  # str(dict) of the Bundle, as upstream
    assert calc.text == "59" and done.text == "Finished."
    assert sample.messages[0].role == "system" and sample.messages[1].text.startswith("<instruction>")
    assert not any(m.text == "never reached: finish ends the run" for m in sample.messages)


def test_parallel_tool_calls_record_every_post_in_call_order(mab_env, log_dir: str) -> None:
    subject = {"reference": "Patient/S6315806"}
    sr = {"resourceType": "ServiceRequest", "code": {"text": "first"}, "authoredOn": "2023-11-07T22:47:00+00:00",
          "status": "active", "intent": "order", "priority": "stat", "subject": subject, "note": [{"text": "a"}],
          "occurrenceDateTime": "2023-11-07T22:47:00+00:00"}  # fmt: skip
    mr = {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "second"},
          "authoredOn": "2023-11-07T22:47:00+00:00", "dosageInstruction": [{"text": "oral"}], "status": "active",
          "intent": "order", "subject": subject}  # fmt: skip
    rejected = {**mr, "dosageInstruction": [{"route": "oral"}]}  # route must be a CodeableConcept: HTTP 400
    outputs = [
        _calls(("fhir_service_request_create", sr), ("fhir_medication_request_create", mr)),
        _calls(("fhir_medication_request_create", rejected)),
        _calls(("finish", {"value": []})),
    ]
    sample = _only(_run(medagentbench_v2(task_types="task1"), outputs, log_dir, sample_id="task1_1"))
    posts = sample.store[POSTS_KEY]
    assert [p["url"] for p in posts] == [f"{DISPLAY_BASE}ServiceRequest"] + [f"{DISPLAY_BASE}MedicationRequest"] * 2
    assert [p["payload"] for p in posts] == [sr, mr, rejected]
    assert [p["accepted"] for p in posts] == [True, True, False]  # recorded before sending; the grader judges
    assert "HTTP 400" in _tool_messages(sample)[2].error.message
    assert _value(sample) == "I"  # task1 wants exactly one POST


def test_malformed_tool_arguments_reach_the_model_as_errors(mab_env, log_dir: str) -> None:
    outputs = [
        _calls(("fhir_observation_search", {"search_params": "patient=S6315806", "explanation": "x"})),
        _calls(("fhir_observation_search", {"search_params": {"patient": "S6315806"}, "explanation": "x"})),
        _calls(("fhir_patient_search", {"identifier": {"$ne": 1}})),
        _calls(("calculator", {"expression": "__import__('os')"})),
        _calls(("finish", {"value": "not a list"})),
        _calls(("finish", {"value": [70, 71]})),
    ]
    sample = _only(_run(medagentbench_v2(task_types="task3"), outputs, log_dir, sample_id="task3_1"))
    results = _tool_messages(sample)
    assert [m.error is not None for m in results] == [True, True, True, True, True, False]
    assert sample.store["medagentbench_result"] == "[70, 71]"


def test_a_server_error_mid_sample_reaches_the_model(mab_env, log_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = SampleFhir.request
    seen = []

    async def flaky(self, method, url, body=None):  # noqa: ANN001, ANN202
        seen.append(url)
        if len(seen) == 1:
            return FhirReply(500, json.dumps({"resourceType": "OperationOutcome", "issue": [{"diagnostics": "boom"}]}))
        if len(seen) == 2:
            raise httpx.ConnectError("connection refused")
        return await real(self, method, url, body)

    monkeypatch.setattr(SampleFhir, "request", flaky)
    search = (
        "fhir_observation_search",
        {"search_params": {"patient": "S6315806", "code": "HEARTRATE"}, "explanation": "hr"},
    )
    outputs = [_calls(search), _calls(search), _calls(search), _calls(("finish", {"value": [1, 2]}))]
    sample = _only(_run(medagentbench_v2(task_types="task3"), outputs, log_dir, sample_id="task3_1"))
    first, second, third, _ = _tool_messages(sample)
    assert first.error is not None and "HTTP 500: boom" in first.error.message
    assert second.error is not None and "ConnectError" in second.error.message
    assert third.error is None and "'resourceType': 'Bundle'" in third.text


async def test_a_failed_grader_read_is_an_error_not_a_fail(mab_env, monkeypatch: pytest.MonkeyPatch) -> None:
    from medarc_inspect.medagentbench.backend import FhirReadError
    from medarc_inspect.medagentbench.graders_v2 import grade_v2
    from medarc_inspect.medagentbench.trace import Trace

    async def down(self, method, url, body=None):  # noqa: ANN001, ANN202
        return FhirReply(503, "unavailable")

    fhir = backend_module.embedded_backend().open("grader-read")
    monkeypatch.setattr(SampleFhir, "request", down)
    task = {"id": "task9_1", "instruction": "x", "context": "", "eval_MRN": "S6474456"}
    with pytest.raises(FhirReadError, match="HTTP 503"):
        await grade_v2(task, Trace(result="[]"), fhir, datetime.fromisoformat("2024-01-09T00:00:00+00:00"))


def test_tools_never_leave_the_base_url(mab_env, log_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = SampleFhir.request
    urls = []

    async def spy(self, method, url, body=None):  # noqa: ANN001, ANN202
        urls.append(url)
        return await real(self, method, url, body)

    monkeypatch.setattr(SampleFhir, "request", spy)
    outputs = [
        _calls(("fhir_patient_search", {"identifier": "http://evil.example/steal"})),
        _calls(("fhir_vitals_search", {"category": "vital-signs", "patient": "../../metadata?x=1#"})),
        _calls(("fhir_condition_search", {"search_params": {"patient": "S1/../../Patient"}, "explanation": "x"})),
        _calls(("fhir_medication_request_search", {"patient": "S1", "category": "a&_count=999999"})),
        _calls(("finish", {"value": []})),
    ]
    _run(medagentbench_v2(task_types="task3"), outputs, log_dir, sample_id="task3_1")
    paths = [url.split("?")[0] for url in urls if "_count=5000" not in url]  # the grader's own reads aside
    assert paths == [f"{DISPLAY_BASE}{t}" for t in ("Patient", "Observation", "Condition", "MedicationRequest")]
    assert "_count=999999" not in urls[3] and "a%26_count%3D999999" in urls[3]


async def test_sample_view_refuses_other_urls(mab_env) -> None:
    fhir = backend_module.embedded_backend().open("confined")
    for url in ("http://evil.example/fhir/Patient", "http://localhost:8080/fhirX/Patient", "file:///etc/passwd"):
        assert (await fhir.request("GET", url)).status == 404


# ------------------------------------------------------------------------------------------ v1


def test_scripted_v1_text_protocol(mab_env, log_dir: str) -> None:
    body = {"resourceType": "Observation", "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category",
            "code": "vital-signs", "display": "Vital Signs"}]}], "code": {"text": "BP"},
            "effectiveDateTime": "2023-11-13T10:15:00+00:00", "status": "final", "valueString": "118/77 mmHg",
            "subject": {"reference": "Patient/S2380121"}}  # fmt: skip
    outputs = [
        _text(f"```\nGET {DISPLAY_BASE}Patient?identifier=S2380121\n```"),
        _text(f"POST {DISPLAY_BASE}Observation\n{json.dumps(body)}"),
        _text("FINISH([])"),
    ]
    sample = _only(_run(medagentbench(task_types="task3"), outputs, log_dir, sample_id="task3_1"))
    assert _value(sample) == "C"
    users = [m.text for m in sample.messages if m.role == "user"]
    upstream = v1_template("upstream")  # the authors' prompt, read from the pinned file (the default)
    assert users[0] == v1_user_message(upstream, DISPLAY_BASE, v1_functions(), sample.metadata["task"])
    assert '"birthDate"' in users[1] and "POST request accepted" in users[2]
    assert sample.store[POSTS_KEY] == [{"url": f"{DISPLAY_BASE}Observation", "payload": body, "accepted": True}]


def test_v1_invalid_replies_and_escapes(mab_env, log_dir: str) -> None:
    outputs = [
        _text("GET http://evil.example/fhir/Patient?x=1"),
        _text(f"GET {DISPLAY_BASE}../Patient?identifier=S1"),
        _text(f"POST {DISPLAY_BASE}Observation\nnot json"),
        _text("I think the answer is 60"),
    ]
    sample = _only(_run(medagentbench(task_types="task2", prompt="builtin"), outputs, log_dir, sample_id="task2_1"))
    users = [m.text for m in sample.messages if m.role == "user"]
    assert "only URLs on" in users[1] and "unknown resource path" in users[2] and "Invalid POST" in users[3]
    assert sample.store["medagentbench_result"] is None and _value(sample) == "I"
    assert "without grading" in next(iter(sample.scores.values())).explanation
    assert "FINISH([answer1" in users[0]  # our own protocol text


def test_turn_limit(mab_env, log_dir: str) -> None:
    outputs = [_calls(("calculator", {"expression": "1 + 1"}))] * 10
    sample = _only(_run(medagentbench_v2(task_types="task3", max_turns=3), outputs, log_dir, sample_id="task3_1"))
    assert len(_tool_messages(sample)) == 3 and sample.store["medagentbench_result"] == "[]"


# --------------------------------------------------------------------------------- task arguments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tasks_variant": "new"}, "tasks_variant"),
        ({"task_types": "task11"}, "task_types"),
        ({"baseline": "perfect"}, "baseline"),
        ({"max_turns": 0}, "max_turns"),
        ({"v2_task1_now": "now"}, "v2_task1_now"),
        ({"fhir_data": "/x", "fhir_api_base": "http://127.0.0.1:9/fhir/"}, "not both"),
        ({"fhir_api_base": "localhost:8080"}, "an http"),
    ],
)
def test_bad_task_args_fail_in_one_line(mab_env, kwargs: dict, message: str) -> None:
    with pytest.raises(TaskArgError, match=message) as error:
        medagentbench_v2(**kwargs)
    assert "\n" not in str(error.value)


def test_a_down_server_is_one_clear_line_before_any_sample() -> None:
    with pytest.raises(FhirBackendError, match="does not answer GET metadata") as error:
        medagentbench_v2(fhir_api_base="http://127.0.0.1:9/fhir/")
    assert "\n" not in str(error.value)


def test_task_types_select_exactly(mab_env) -> None:
    ids = [s.id for s in medagentbench_v2(task_types="task1").dataset]
    assert len(ids) == 30 and all(i.startswith("task1_") for i in ids)
    v1 = medagentbench(task_types=["task1", "task10"]).dataset
    assert Counter(s.metadata["task_type"] for s in v1) == {"task1": 30, "task10": 30}
    assert {s.metadata["category"] for s in v1 if s.metadata["task_type"] == "task10"} == {"action"}


def test_wall_clock_option_changes_task1_now_only(mab_env) -> None:
    frozen = {s.id: s.metadata["now"] for s in medagentbench_v2(task_types="task1,task3").dataset}
    wall = {
        s.id: s.metadata["now"] for s in medagentbench_v2(task_types="task1,task3", v2_task1_now="wall_clock").dataset
    }
    assert frozen["task1_1"] == "2023-11-07T22:47:00+00:00" and wall["task1_1"] == "wall_clock"
    assert all(frozen[k] == wall[k] for k in frozen if k.startswith("task3_"))


def test_a_real_server_over_http(mab_env, log_dir: str) -> None:
    from medarc_inspect.fhir.server import FhirServer

    server = FhirServer(backend_module.embedded_backend()._registry.store)  # the same synthetic data, over HTTP
    with server.running():
        base = server.default_session.base_url
        v2 = _run(medagentbench_v2(baseline="oracle", fhir_api_base=base, task_types="task9"), log_dir=log_dir)
        v1 = _run(medagentbench(baseline="oracle", fhir_api_base=base, task_types="task2,task10"), log_dir=log_dir)
    assert v2.results.scores[0].metrics["accuracy"].value == 1.0
    assert v1.results.scores[0].metrics["accuracy"].value == 1.0
    assert v2.eval.task_args["fhir_api_base"] == base and v2.eval.metadata["shared_state"] is True
    assert base in v1.samples[0].input  # the model sees the real server's base
