"""The per-sample solver: open the sample's FHIR view, run the agent (model or baseline) through one loop."""

from __future__ import annotations

from datetime import UTC, datetime

from inspect_ai.model import ChatMessageSystem
from inspect_ai.solver import Generate, Solver, TaskState, solver

from medarc_inspect.medagentbench import baselines
from medarc_inspect.medagentbench.agents import ScriptedTurns, model_turns, run_v1, run_v2
from medarc_inspect.medagentbench.backend import FhirBackend
from medarc_inspect.medagentbench.dataset import WALL_CLOCK
from medarc_inspect.medagentbench.tools import v2_tools


@solver
def medagentbench_agent(
    backend: FhirBackend, protocol: str, baseline: str | None, max_turns: int, system: str | None = None
) -> Solver:
    """`protocol`: "tools" (v2 native tool calling) or "text" (v1 GET/POST/FINISH); `system`: a system prompt."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if system:
            state.messages.insert(0, ChatMessageSystem(content=system))
        fhir = backend.open(state.uuid)
        meta = state.metadata
        task = meta["task"]
        scripted: ScriptedTurns | None = None
        if baseline == "noop":
            scripted = baselines.noop_v1() if protocol == "text" else baselines.noop_v2()
        elif baseline == "oracle" and protocol == "text":
            scripted = baselines.oracle_text(task, fhir)
        elif baseline == "oracle":
            now = None
            if meta["logic"] == "v2":
                now = datetime.now(UTC) if meta["now"] == WALL_CLOCK else datetime.fromisoformat(meta["now"])
            scripted = baselines.oracle_tools(task, fhir, now, meta["logic"])
        turns = scripted or model_turns()
        try:
            if protocol == "text":
                await run_v1(state, fhir, turns, max_turns)
            else:
                await run_v2(state, v2_tools(fhir), turns, max_turns)
        finally:
            if scripted is not None:
                scripted.close()
        return state

    return solve
