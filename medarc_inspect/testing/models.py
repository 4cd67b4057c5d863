"""`medarc-mock/<name>`: a tiny offline model provider for demos, tests and benchmarks.

- `medarc-mock/judge` answers like an LLM judge, deterministically from the prompt text, in whichever verdict
  format the prompt asks for (one module per benchmark in `judge_formats/`; MTSamples' criteria JSON otherwise).
- Any other name (e.g. `medarc-mock/model`) answers with a short fixed treatment plan.

Model args: `latency` (seconds to wait before answering, to simulate an API; default 0).
Every output carries token usage, so no tokenizer (and no download) is ever needed.
With `MEDARC_MOCK_CALLS` set to a file path, every call appends one line `<model name>` to it (tests use this to
prove that a misconfigured run stopped before any model was called).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from medarc_inspect.testing.judge_formats import judge_reply

CALLS_ENV = "MEDARC_MOCK_CALLS"
FIXED_ANSWER = "Continue current management, review pathology, and follow up in clinic in two weeks."


class MedarcMockAPI(ModelAPI):
    """Deterministic offline model: a scripted judge, or a fixed answer."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        latency: float = 0.0,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.latency = float(latency)

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        calls_file = os.environ.get(CALLS_ENV)
        if calls_file:
            with open(calls_file, "a", encoding="utf-8") as calls:
                calls.write(f"medarc-mock/{self.model_name}\n")
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        prompt = "\n".join(message.text for message in input)
        text = judge_reply(prompt) if self.model_name == "judge" else FIXED_ANSWER
        output = ModelOutput.from_content(model=f"medarc-mock/{self.model_name}", content=text)
        prompt_tokens, output_tokens = len(prompt) // 4 + 1, len(text) // 4 + 1
        output.usage = ModelUsage(
            input_tokens=prompt_tokens,
            output_tokens=output_tokens,
            total_tokens=prompt_tokens + output_tokens,
        )
        return output

    def max_connections(self) -> int:
        return 10


@modelapi(name="medarc-mock")
def medarc_mock() -> type[ModelAPI]:
    return MedarcMockAPI
