"""Limits that bound what one request may cost (time, size, nesting) and what a session may store.

Every limit is answered with an OperationOutcome (400 "too-costly", 403 for a full write quota), never by
holding the server: the model under test writes the queries, and all sessions share one process.
"""

from __future__ import annotations

import math
import time

from medarc_inspect.fhir.errors import FhirError

REQUEST_BUDGET_S = 10.0  # wall time one request may take (queued time included) before it is stopped
MAX_SORT_KEYS = 32  # `_sort` keys in one request (repeats of one key collapse to its first occurrence)
MAX_PARAMS = 64  # distinct search parameter occurrences (identical repeats collapse to one)
MAX_VALUES = 1000  # comma-separated values in one parameter (identical repeats collapse to one)
MAX_DEPTH = 64  # nesting of objects/arrays in a POST body
MAX_WRITE_BYTES = 32 << 20  # stored JSON one session may write
MAX_WRITES = 20_000  # resources one session may create
PRETTY_CACHE_BYTES = 32 << 20  # indented renderings kept per table (least recently used dropped first)
INLINE_ROWS = 20_000  # searches estimated to scan more rows than this run in the worker pool


class Deadline:
    """A point in time (monotonic) after which the request ends with 400 too-costly."""

    __slots__ = ("at", "budget")

    def __init__(self, budget: float = REQUEST_BUDGET_S, start: float | None = None) -> None:
        self.budget = budget
        self.at = (time.monotonic() if start is None else start) + budget

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise too_costly(
                f"The request took longer than its {self.budget:g} s budget and was stopped; "
                "narrow the search (e.g. add patient= or code=, or use fewer values)"
            )


def too_costly(message: str) -> FhirError:
    return FhirError(400, message, "too-costly")


def check_depth(value: object, limit: int = MAX_DEPTH) -> None:
    """400 if `value` nests deeper than `limit` or holds a string that is not valid Unicode (a lone
    surrogate from a `\\ud800` escape); iterative, so any depth is safe to inspect."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                raise FhirError(400, f"The resource nests deeper than {limit} levels", "too-costly")
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > limit:
                raise FhirError(400, f"The resource nests deeper than {limit} levels", "too-costly")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise FhirError(400, f"The resource holds a number JSON cannot write: {item}", "invalid")


def _check_text(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FhirError(400, "The resource holds a string that is not valid Unicode (a lone surrogate)") from None
