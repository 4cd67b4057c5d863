"""HealthBench: tasks, dataset, rubric grader, scoring and meta-eval (see healthbench.py)."""

from medarc_inspect.healthbench.healthbench import (
    healthbench,
    healthbench_consensus,
    healthbench_hard,
    healthbench_meta_eval,
)

__all__ = ["healthbench", "healthbench_consensus", "healthbench_hard", "healthbench_meta_eval"]
