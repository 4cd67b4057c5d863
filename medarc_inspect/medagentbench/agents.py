"""The two agent loops: v2 native tool calling and v1's text protocol (GET / POST / FINISH).

Both take a `TurnSource` that writes the next assistant message: the model under test (`model_turns`) or a
scripted baseline (`ScriptedTurns`, see baselines.py), so baselines run through exactly the same path.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageUser,
    GenerateConfig,
    execute_tools,
    get_model,
)
from inspect_ai.solver import TaskState
from inspect_ai.tool import ToolDef
from inspect_ai.util import store

from medarc_inspect.fhir.params import SUPPORTED_TYPES
from medarc_inspect.medagentbench.backend import SampleFhir
from medarc_inspect.medagentbench.tools import CREATE_TOOLS, POSTS_KEY, RESULT_KEY

MAX_TURNS = 8
TurnSource = Callable[[TaskState, list[ToolDef]], Awaitable[ChatMessageAssistant]]

V1_GET_PREFIX = "Response to your GET request:\n"
V1_GET_SUFFIX = "\nWhen you have every answer and have done every requested action, reply with FINISH."
V1_GET_ERROR = "The GET request failed: "
V1_POST_ACCEPTED = "POST request accepted (recorded, not sent). When you are done, reply with FINISH."
V1_POST_INVALID = "Invalid POST request: the lines after the URL must be one JSON object."
_FENCE = re.compile(r"^```[a-z_]*\s*|\s*```$")


def model_turns(config: GenerateConfig | None = None) -> TurnSource:
    """The model under test writes each turn (`parallel_tool_calls=False`, as upstream)."""
    settings = config or GenerateConfig(parallel_tool_calls=False)

    async def turn(state: TaskState, tools: list[ToolDef]) -> ChatMessageAssistant:
        output = await get_model().generate(state.messages, tools or [], config=settings)
        state.output = output
        return output.message

    return turn


async def run_v2(state: TaskState, tools: list[ToolDef], next_turn: TurnSource, max_turns: int = MAX_TURNS) -> None:
    """At most `max_turns` model turns; `finish` ends the run, a reply without a tool call ends it with []."""
    for _ in range(max_turns):
        message = await next_turn(state, tools)
        state.messages.append(message)
        if not message.tool_calls:
            break
        result = await execute_tools(state.messages, tools)
        state.messages.extend(result.messages)
        if store().get(RESULT_KEY) is not None:
            break
    if store().get(RESULT_KEY) is None:
        store().set(RESULT_KEY, "[]")


def v2_has_post(messages: list[ChatMessage]) -> bool:
    """Any attempted create call (even one rejected before it ran)."""
    return any(
        call.function in CREATE_TOOLS
        for m in messages
        if isinstance(m, ChatMessageAssistant)
        for call in m.tool_calls or []
    )


# ---------------------------------------------------------------------------------------------- v1


def clean_reply(text: str) -> str:
    """Strip, then remove ``` / ```tool_code fences, as the upstream harness does."""
    return _FENCE.sub("", text.strip()).strip()


async def run_v1(state: TaskState, fhir: SampleFhir, next_turn: TurnSource, max_rounds: int = MAX_TURNS) -> None:
    """The text protocol: GET is fetched (`&_format=json` appended), POST recorded and not sent, FINISH ends.

    Anything else, or running out of rounds, leaves no result (scored wrong without grading).
    """
    store().set(RESULT_KEY, None)
    for _ in range(max_rounds):
        message = await next_turn(state, [])
        state.messages.append(message)
        reply = clean_reply(message.text)
        if reply.startswith("GET"):
            answer = await _v1_get(fhir, reply[3:].strip() + "&_format=json")
        elif reply.startswith("POST"):
            answer = _v1_post(reply)
        elif reply.startswith("FINISH("):
            store().set(RESULT_KEY, reply[len("FINISH(") : -1])
            return
        else:
            return
        state.messages.append(ChatMessageUser(content=answer))


async def _v1_get(fhir: SampleFhir, url: str) -> str:
    problem = v1_url_problem(fhir.base_url, url)
    if problem:
        return V1_GET_ERROR + problem
    try:
        reply = await fhir.request("GET", url)
    except httpx.HTTPError as e:
        return f"{V1_GET_ERROR}{type(e).__name__}: {e}"
    if not reply.ok:
        return f"{V1_GET_ERROR}HTTP {reply.status}: {reply.text[:2000]}"
    return V1_GET_PREFIX + reply.text + V1_GET_SUFFIX


def v1_url_problem(base: str, url: str) -> str | None:
    """Why a v1 GET URL may not be fetched (None: it may): it must be `<base><Type>[?query]`."""
    if not url.startswith(base):
        return f"only URLs on {base} can be fetched"
    path = urlsplit(url[len(base) :]).path
    if path not in SUPPORTED_TYPES and path != "metadata":
        return f"unknown resource path {path[:100]!r}; use {base}<ResourceType>?<params>"
    return None


def _v1_post(reply: str) -> str:
    lines = reply.split("\n")
    try:
        payload = json.loads("\n".join(lines[1:]))
    except ValueError:
        return V1_POST_INVALID
    posts = store().get(POSTS_KEY, [])
    posts.append({"url": lines[0][4:].strip(), "payload": payload, "accepted": True})
    store().set(POSTS_KEY, posts)
    return V1_POST_ACCEPTED


def v1_has_post(messages: list[ChatMessage]) -> bool:
    return any(isinstance(m, ChatMessageAssistant) and "POST" in m.text for m in messages)


# ------------------------------------------------------------------------------- scripted turns


class ScriptedTurns:
    """Runs a baseline coroutine as if it were the model: each `await say(message)` is one turn.

    `say` returns the messages the harness added after that turn (tool results or the v1 answer).
    The run ends when the coroutine returns (its last turn should end the run: finish / FINISH).
    """

    def __init__(self, script: Callable[[ScriptedTurns], Awaitable[None]]) -> None:
        self._script = script
        self._turns: asyncio.Queue[ChatMessageAssistant | None] = asyncio.Queue()
        self._replies: asyncio.Queue[list[ChatMessage]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._seen = 0

    async def say(self, message: ChatMessageAssistant) -> list[ChatMessage]:
        await self._turns.put(message)
        return await self._replies.get()

    async def __call__(self, state: TaskState, tools: list[ToolDef]) -> ChatMessageAssistant:
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        else:
            await self._replies.put(list(state.messages[self._seen :]))
        message = await self._turns.get()
        if message is None:
            self._task.result()  # re-raise the script's error, if any
            message = ChatMessageAssistant(content="", model="baseline")
        self._seen = len(state.messages) + 1
        return message

    def close(self) -> None:
        """Stop the script if the run ended before it did (e.g. after finish, or at the turn limit)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self) -> None:
        try:
            await self._script(self)
        finally:
            await self._turns.put(None)
