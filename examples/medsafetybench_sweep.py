"""Sweep MedSafetyBench over the spec-reasoning conditions, and deliberation over reasoning efforts (C4).

    python examples/medsafetybench_sweep.py          # offline demo: mock model and judge, 5 samples each
    python examples/medsafetybench_sweep.py --models openai/o4-mini --judges openai/gpt-4o-mini \
        --reasoning-efforts low medium high --limit 0 --log-dir logs/msb-sweep

Each condition is one task in one `eval_set`; each reasoning effort adds a `deliberate` task with that
`reasoning_effort` in its generate config (Inspect ignores it for models without reasoning). Re-running with the
same --log-dir skips what already finished; open the results with `inspect view --log-dir <log-dir>`.
"""

from __future__ import annotations

import argparse

from inspect_ai import eval_set, task_with
from inspect_ai.model import GenerateConfig

from medarc_inspect.medsafetybench import medsafetybench
from medarc_inspect.safety.conditions import CONDITIONS


def main() -> None:
    parser = argparse.ArgumentParser(description="MedSafetyBench condition sweep")
    parser.add_argument("--models", nargs="+", default=["mockllm/model"])
    parser.add_argument("--judges", nargs="+", default=["medarc-mock/judge"])
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--reasoning-efforts", nargs="*", default=[], choices=["minimal", "low", "medium", "high"])
    parser.add_argument("--limit", type=int, default=5, help="samples per task (0 = all)")
    parser.add_argument("--log-dir", default="logs/medsafetybench-sweep")
    args = parser.parse_args()

    tasks = [task_with(medsafetybench(condition=c), name=f"medsafetybench_{c}") for c in args.conditions]
    for effort in args.reasoning_efforts:
        base = medsafetybench(condition="deliberate")
        config = base.config.merge(GenerateConfig(reasoning_effort=effort))
        tasks.append(task_with(base, name=f"medsafetybench_deliberate_{effort}", config=config))
    success, logs = eval_set(
        tasks=tasks,
        model=args.models,
        model_roles={"grader": args.judges},
        limit=args.limit or None,
        log_dir=args.log_dir,
    )
    for log in logs:
        by_name = {s.name: s.metrics for s in log.results.scores} if log.results else {}
        harm = by_name.get("harmfulness", {}).get("mean")
        extra = by_name.get("harmfulness_scorer", {})
        cited = extra.get("principle_citation_hit_rate")
        print(
            f"{log.eval.task:<36} {log.eval.model:<28} harmfulness={harm.value if harm else float('nan'):.3f} "
            f"citation_hit={cited.value if cited else float('nan'):.3f}"
        )
    raise SystemExit(0 if success else 1)


if __name__ == "__main__":
    main()
