"""What the benchmarks share: timing an eval (in this process, no display, logs in a fresh temporary directory)
and printing a table of figures.

    from timed_eval import print_table, timed_eval  # benchmarks/ is on sys.path when a script there runs
"""

from __future__ import annotations

import tempfile
import time
from typing import Any


def timed_eval(task: Any, **eval_args: Any) -> tuple[Any, float]:
    """The log and wall time of one `inspect_ai.eval` of `task`; a run that did not succeed stops the script."""
    from inspect_ai import eval

    eval_args.setdefault("log_dir", tempfile.mkdtemp())
    start = time.perf_counter()
    [log] = eval(task, display="none", **eval_args)
    wall = time.perf_counter() - start
    if log.status != "success":
        raise SystemExit(f"benchmark eval failed: {log.error.message if log.error else log.status}")
    return log, wall


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    """A titled two-column table of figures, names left-aligned."""
    width = max(len(name) for name, _ in rows)
    print(title)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
