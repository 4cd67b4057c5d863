"""The MedAgentBench scorer: rebuild the grader's view of the run from the sample store, grade, close the session."""

from __future__ import annotations

from datetime import UTC, datetime

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, grouped, scorer, stderr
from inspect_ai.solver import TaskState

from medarc_inspect.medagentbench.agents import v1_has_post, v2_has_post
from medarc_inspect.medagentbench.backend import FhirBackend
from medarc_inspect.medagentbench.dataset import WALL_CLOCK
from medarc_inspect.medagentbench.graders_v1 import grade_v1
from medarc_inspect.medagentbench.graders_v2 import grade_v2
from medarc_inspect.medagentbench.tools import POSTS_KEY, RESULT_KEY
from medarc_inspect.medagentbench.trace import Trace


def trace_of(state: TaskState, protocol: str) -> Trace:
    """The run as the graders see it: answer text, POSTs (url, raw payload) in call order, any POST attempt."""
    posts = [(p["url"], p["payload"]) for p in state.store.get(POSTS_KEY, [])]
    has_post = v1_has_post(state.messages) if protocol == "text" else (v2_has_post(state.messages) or bool(posts))
    return Trace(result=state.store.get(RESULT_KEY), posts=posts, has_post=has_post)


@scorer(
    metrics=[
        accuracy(),
        stderr(),
        grouped(accuracy(), "task_type", all=False),
        grouped(accuracy(), "category", all=False),
        grouped(stderr(), "category", all=False, name_template="{group_name}_stderr"),
    ]
)
def medagentbench_scorer(backend: FhirBackend, protocol: str) -> Scorer:
    """Binary success per task, graded by the task type's grader (v1 or v2 logic, from sample metadata)."""

    async def score(state: TaskState, target: Target) -> Score:
        fhir = backend.get(state.uuid)
        if fhir is None:
            raise RuntimeError(f"no FHIR session for sample {state.sample_id}: the solver did not run")
        meta = state.metadata
        trace = trace_of(state, protocol)
        try:
            if meta["logic"] == "v1":
                passed, why = await grade_v1(meta["task"], trace, fhir)
            else:
                now = datetime.now(UTC) if meta["now"] == WALL_CLOCK else datetime.fromisoformat(meta["now"])
                passed, why = await grade_v2(meta["task"], trace, fhir, now)
        finally:
            backend.close(state.uuid)
        return Score(
            value=CORRECT if passed else INCORRECT,
            answer=trace.result,
            explanation=why,
            metadata={"posts": len(trace.posts), "has_post": trace.has_post},
        )

    return score
