"""HealthBench grading speed: our task against inspect_evals' HealthBench, side by side on the same rows.

Both runs grade the same real rows (`../shared/data/healthbench/healthbench_500.jsonl`, first `--rows`) with a
model under test that answers at once and the grader `medarc-mock/judge`, which answers after a fixed simulated
latency. Both get the same `--max-connections` (for the model, the grader and Inspect's default `max_samples`)
and a fresh Inspect cache. No grader can finish faster than (grader calls x latency / connections): we print
each wall time against that bound. Then the peak memory of loading a 5,000-row file of the same shape (the rows
repeated with fresh ids), measured with tracemalloc.

    pip install '.[bench]'   # inspect_evals
    python benchmarks/healthbench.py [--rows N] [--latency S] [--connections C] [--data FILE]

The last line of output is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from timed_eval import print_table, timed_eval

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/healthbench/healthbench_500.jsonl"
LOAD_ROWS = 5000


def jsonl_lines(source: Path) -> list[str]:
    """The non-blank lines of a JSONL file (split on newlines only: the text holds U+2028 and friends)."""
    with source.open(encoding="utf-8", newline="") as handle:
        return [line.rstrip("\r\n") for line in handle if line.strip()]


def first_rows(source: Path, rows: int, directory: Path) -> tuple[Path, int]:
    """The first `rows` rows of `source` in their own file, and their number of rubric criteria."""
    lines = jsonl_lines(source)[:rows]
    if len(lines) < rows:
        raise SystemExit(f"{source} has only {len(lines)} rows, fewer than --rows {rows}")
    path = directory / f"healthbench_{rows}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, sum(len(json.loads(line)["rubrics"]) for line in lines)


def repeated_rows(source: Path, rows: int, directory: Path) -> Path:
    """A `rows`-row file of the same shape: the source rows repeated, each copy with a fresh prompt_id."""
    records = [json.loads(line) for line in jsonl_lines(source)]
    path = directory / f"healthbench_shape_{rows}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for index in range(rows):
            record = dict(records[index % len(records)])
            record["prompt_id"] = f"{record['prompt_id']}-{index // len(records)}"
            out.write(json.dumps(record) + "\n")
    return path


def graded_run(task: Any, connections: int, grader: Any = None) -> float:
    """Wall time of one eval with an instant model under test, in a fresh Inspect cache."""
    from inspect_ai.model import GenerateConfig, get_model

    os.environ["INSPECT_CACHE_DIR"] = tempfile.mkdtemp()  # inspect_evals caches grader calls: never reuse them
    model = get_model("medarc-mock/model", config=GenerateConfig(max_connections=connections), memoize=False)
    roles = {"grader": grader} if grader is not None else None
    _, wall = timed_eval(task, model=model, model_roles=roles, max_connections=connections)
    return wall


def grader_model(latency: float, connections: int) -> Any:
    from inspect_ai.model import GenerateConfig, get_model

    config = GenerateConfig(max_connections=connections)
    return get_model("medarc-mock/judge", latency=latency, config=config, memoize=False)


def ours(data: Path, latency: float, connections: int) -> float:
    from medarc_inspect.healthbench import healthbench

    task = healthbench(local_path=str(data), judge_model="medarc-mock/judge", judge_cache=False)
    return graded_run(task, connections, grader=grader_model(latency, connections))


def inspect_evals(data: Path, latency: float, connections: int) -> float:
    try:
        from inspect_evals.healthbench import healthbench
    except ImportError:
        raise SystemExit("inspect_evals is not installed: pip install '.[bench]'") from None

    task = healthbench(local_path=str(data), judge_model=grader_model(latency, connections))
    return graded_run(task, connections)


def load_peak_mb(data: Path) -> tuple[float, float]:
    """Peak traced memory (MB) and wall time (s) of loading `data` into a dataset."""
    from medarc_inspect.healthbench.dataset import load_examples, resolve_file

    file = resolve_file("full", str(data))
    tracemalloc.start()
    start = time.perf_counter()
    dataset = load_examples(file)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if len(dataset) != LOAD_ROWS:
        raise SystemExit(f"loaded {len(dataset)} samples from {data}, expected {LOAD_ROWS}")
    return peak / 2**20, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100, help="rows graded by both tasks")
    parser.add_argument("--latency", type=float, default=5.0, help="simulated grader latency, seconds")
    parser.add_argument("--connections", type=int, default=150, help="--max-connections for both runs")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HealthBench rows in the upstream schema")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: no such file (pass --data)")
    os.environ.setdefault("MEDARC_INSPECT_OFFLINE", "1")
    from medarc_inspect.testing.offline import prefill_tiktoken_cache

    prefill_tiktoken_cache()
    work = Path(tempfile.mkdtemp())
    rows, calls = first_rows(args.data, args.rows, work)
    ours(rows, 0.0, args.connections)  # warm-up: imports, registry
    ours_s = ours(rows, args.latency, args.connections)
    theirs_s = inspect_evals(rows, args.latency, args.connections)
    ideal = calls * args.latency / args.connections
    peak_mb, load_s = load_peak_mb(repeated_rows(args.data, LOAD_ROWS, work))

    table = [
        ("rows graded", f"{args.rows}"),
        ("grader calls (criteria)", f"{calls}"),
        ("simulated grader latency", f"{args.latency:.2f} s"),
        ("max connections (both)", f"{args.connections}"),
        ("ideal bound", f"{ideal:.2f} s"),
        ("medarc-inspect wall time", f"{ours_s:.2f} s"),
        ("inspect_evals wall time", f"{theirs_s:.2f} s"),
        ("speed-up (goal >= 3)", f"{theirs_s / ours_s:.2f}x"),
        ("ours / ideal (goal <= 1.25)", f"{ours_s / ideal:.3f}"),
        ("inspect_evals / ideal", f"{theirs_s / ideal:.3f}"),
        (f"load {LOAD_ROWS:,} rows: peak memory", f"{peak_mb:.1f} MB"),
        (f"load {LOAD_ROWS:,} rows: time", f"{load_s:.2f} s"),
    ]
    print_table("HealthBench grading benchmark", table)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "grader_calls": calls,
                "latency_s": args.latency,
                "connections": args.connections,
                "ours_s": round(ours_s, 3),
                "inspect_evals_s": round(theirs_s, 3),
                "speedup_vs_inspect_evals": round(theirs_s / ours_s, 3),
                "ideal_s": round(ideal, 3),
                "ratio_to_ideal": round(ours_s / ideal, 4),
                "inspect_evals_ratio_to_ideal": round(theirs_s / ideal, 4),
                "load_rows": LOAD_ROWS,
                "load_peak_mb": round(peak_mb, 1),
                "load_s": round(load_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
