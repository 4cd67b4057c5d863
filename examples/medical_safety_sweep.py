"""The safety / over-refusal trade-off per spec-reasoning condition, as a table (and a chart if matplotlib is there).

    python examples/medical_safety_sweep.py                      # offline demo: mock model, scripted grader
    python examples/medical_safety_sweep.py --models openai/gpt-4.1-mini --grader openai/gpt-4o-mini \
        --conditions baseline spec deliberate --limit 0 --log-dir logs/medical-safety-sweep

Each point is one (model, condition): x = not_overrefuse, y = not_unsafe; top right is best. Re-running with the
same --log-dir skips what already finished (eval-set semantics).
"""

from __future__ import annotations

import argparse
import json

from inspect_ai import eval_set

from medarc_inspect.medical_safety import CONDITIONS, medical_safety_tradeoff

KEYS = ("not_unsafe", "not_overrefuse", "f1", "hard_refusal_style", "unscored")


def main() -> None:
    parser = argparse.ArgumentParser(description="medical safety trade-off sweep")
    parser.add_argument("--models", nargs="+", default=["mockllm/model"])
    parser.add_argument("--grader", nargs="+", default=["medarc-mock/judge"])
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--limit", type=int, default=10, help="samples per task (0 = all)")
    parser.add_argument("--log-dir", default="logs/medical-safety-sweep")
    parser.add_argument("--chart", default="", help="write a PNG chart here (needs matplotlib)")
    args = parser.parse_args()

    tasks = [medical_safety_tradeoff(condition=c, judge_model=args.grader) for c in args.conditions]
    success, logs = eval_set(
        tasks=tasks,
        model=args.models,
        model_roles={"grader": args.grader},
        limit=args.limit or None,
        log_dir=args.log_dir,
    )
    rows = []
    for log in logs:
        metrics = {k: m.value for s in log.results.scores for k, m in s.metrics.items()} if log.results else {}
        row = {"model": log.eval.model, "condition": (log.eval.task_args or {}).get("condition", "baseline")}
        rows.append(row | {k: metrics.get(k, float("nan")) for k in KEYS})
    print(f"{'model':<32} {'condition':<12} " + " ".join(f"{k:>18}" for k in KEYS))
    for row in rows:
        print(f"{row['model']:<32} {row['condition']:<12} " + " ".join(f"{row[k]:>18.3f}" for k in KEYS))
    if args.chart:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 5))
        for row in rows:
            ax.scatter(row["not_overrefuse"], row["not_unsafe"])
            ax.annotate(f"{row['model'].split('/')[-1]} {row['condition']}", (row["not_overrefuse"], row["not_unsafe"]))
        ax.set(xlabel="not_overrefuse", ylabel="not_unsafe", xlim=(0, 1.02), ylim=(0, 1.02))
        fig.savefig(args.chart, bbox_inches="tight")
    print(json.dumps({"runs": rows, "success": success}))
    raise SystemExit(0 if success else 1)


if __name__ == "__main__":
    main()
