"""How close does a judged MTSamples run come to the ideal concurrency bound?

Runs mtsamples_procedures offline with a model under test that answers at once and a panel of 3 judges
(`medarc-mock/judge`) that each answer after a fixed simulated latency, sharing one pool of C connections.
No judging framework can finish faster than (judge calls x latency / C); we print our wall time against it.
Then, with instant judges, the per-sample overhead of the whole pipeline, next to a plain Inspect task
(same samples, trivial scorer) run in the same process.

    MEDARC_INSPECT_MIRROR=../shared/mirror python benchmarks/judging.py [--samples N] [--latency S] [--connections C]

The last line of output is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json

from inspect_ai import Task
from inspect_ai.model import GenerateConfig, get_model
from inspect_ai.scorer import includes
from inspect_ai.solver import generate
from timed_eval import print_table, timed_eval

from medarc_inspect.mtsamples import mtsamples_procedures
from medarc_inspect.testing.offline import prefill_tiktoken_cache

JUDGES = 3


def judged_run(samples: int, latency: float, connections: int) -> tuple[float, int]:
    """Wall time of one judged eval and the number of judge calls it made."""
    config = GenerateConfig(max_connections=connections)
    judges = [get_model("medarc-mock/judge", latency=latency, config=config, memoize=False) for _ in range(JUDGES)]
    task = mtsamples_procedures(judge_model="medarc-mock/judge", judge_cache=False)
    log, wall = timed_eval(
        task,
        model=get_model("medarc-mock/model", config=config),
        model_roles={"grader": judges},
        limit=samples,
        max_samples=samples,
        max_connections=connections,
    )
    calls = sum(int(s.scores["mtsamples_jury"].value["judges_asked"]) for s in log.samples or [])
    return wall, calls


def baseline_run(samples: int) -> float:
    """Wall time of a plain Inspect task over the same samples: generate + `includes()`."""
    dataset = mtsamples_procedures(judge_model="medarc-mock/judge").dataset
    task = Task(dataset=dataset[:samples], solver=generate(), scorer=includes())
    _, wall = timed_eval(task, model="medarc-mock/model", max_samples=samples)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=120)
    parser.add_argument("--latency", type=float, default=1.0, help="simulated judge latency, seconds")
    parser.add_argument("--connections", type=int, default=30, help="connections shared by the judges")
    args = parser.parse_args()
    prefill_tiktoken_cache()

    eval_setup, _ = judged_run(1, 0.0, args.connections)  # warm-up: imports, registry, data cache
    wall, calls = judged_run(args.samples, args.latency, args.connections)
    ideal = calls * args.latency / args.connections
    instant_wall, _ = judged_run(args.samples, 0.0, args.connections)
    base_wall = baseline_run(args.samples)
    ours_ms = 1000 * instant_wall / args.samples
    base_ms = 1000 * base_wall / args.samples

    rows = [
        ("samples x judges", f"{args.samples} x {JUDGES}"),
        ("judge calls", f"{calls}"),
        ("simulated latency", f"{args.latency:.2f} s"),
        ("connections", f"{args.connections}"),
        ("ideal bound", f"{ideal:.2f} s"),
        ("wall time", f"{wall:.2f} s"),
        ("ratio to ideal (goal <= 1.25)", f"{wall / ideal:.3f}"),
        ("overhead/sample, instant judges", f"{ours_ms:.1f} ms"),
        ("overhead/sample, plain Inspect task", f"{base_ms:.1f} ms"),
        ("warm-up eval (1 sample)", f"{eval_setup:.2f} s"),
    ]
    print_table("MTSamples judging benchmark", rows)
    print(
        json.dumps(
            {
                "samples": args.samples,
                "judges": JUDGES,
                "judge_calls": calls,
                "latency_s": args.latency,
                "connections": args.connections,
                "wall_s": round(wall, 3),
                "ideal_s": round(ideal, 3),
                "ratio_to_ideal": round(wall / ideal, 4),
                "overhead_ms_per_sample": round(ours_ms, 2),
                "baseline_overhead_ms_per_sample": round(base_ms, 2),
                "overhead_ratio_vs_baseline": round(ours_ms / base_ms, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
