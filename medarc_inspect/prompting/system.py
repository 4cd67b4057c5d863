"""System prompts: put literal text into the system message (never formatted as a template)."""

from __future__ import annotations

from inspect_ai.model import ChatMessageSystem
from inspect_ai.solver import Generate, Solver, TaskState, solver


def add_system_text(state: TaskState, text: str) -> None:
    """Append `text` to the leading system message, creating it if there is none."""
    messages = state.messages
    if messages and isinstance(messages[0], ChatMessageSystem):
        messages[0] = ChatMessageSystem(content=f"{messages[0].text}\n\n{text}")
    else:
        messages.insert(0, ChatMessageSystem(content=text))


@solver
def literal_system_message(text: str) -> Solver:
    """Add `text` to the system message as it is (Inspect's `system_message` would format `{...}` in it)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        add_system_text(state, text)
        return state

    return solve
