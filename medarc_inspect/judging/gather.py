"""Run judge calls concurrently, results in order, without a transcript span per call.

`inspect_ai.util.collect` wraps every task in a span: two transcript events (and two realtime-buffer writes)
per call. For the many small judge calls of a rubric that is a measurable share of the CPU per call
(`benchmarks/healthbench.py`), and each call's model event already names its prompt. Works on any async
backend Inspect supports (anyio).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


async def gather(*calls: Awaitable[T]) -> list[T]:
    """Await every call concurrently; results in call order. The first failure cancels the rest and is raised
    as it is (not wrapped in an exception group)."""
    if len(calls) == 1:
        return [await calls[0]]
    results: list[Any] = [None] * len(calls)

    async def run(index: int, call: Awaitable[T]) -> None:
        results[index] = await call

    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run, index, call)
    except BaseExceptionGroup as failures:
        failure = _first(failures)
    if failure is not None:
        raise failure  # outside the handler: its own cause and traceback stay as they were
    return results


def _first(group: BaseExceptionGroup) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
