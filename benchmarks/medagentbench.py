"""Benchmark MedAgentBench on the embedded server: the full 300-task v2 oracle run, session set-up, baselines.

Runs, in this process, through Inspect exactly as `inspect eval medarc_inspect/medagentbench_v2 -T baseline=...
--model mockllm/model` does (logs go to a temporary directory): the v2 oracle (wall time, per-sample cost,
score), the synthetic EHR build, the time to open and close one sample's FHIR session, and the noop and
oracle scores per task type for v2 and v1 (the README table). Timings on a shared machine are noisy. Needs
the task files (offline: set MEDARC_INSPECT_MIRROR). The last line is one JSON object.

    MEDARC_INSPECT_MIRROR=../shared/mirror python benchmarks/medagentbench.py
    python benchmarks/medagentbench.py --skip-baselines      # only the v2 oracle timing
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter

from timed_eval import timed_eval

TYPES = [f"task{n}" for n in range(1, 11)]


def _run(task, log_dir: str, max_samples: int):  # noqa: ANN001, ANN202
    log, wall = timed_eval(task, model="mockllm/model", log_dir=log_dir, max_samples=max_samples)
    passes = Counter(s.metadata["task_type"] for s in log.samples if next(iter(s.scores.values())).value == "C")
    return wall, log.results.scores[0].metrics["accuracy"].value, passes, len(log.samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-samples", type=int, default=50, help="concurrent samples (default 50)")
    parser.add_argument("--sessions", type=int, default=2000, help="sessions to open/close for the set-up time")
    parser.add_argument("--skip-baselines", action="store_true", help="only the v2 oracle timing")
    args = parser.parse_args()

    from medarc_inspect.medagentbench.backend import embedded_backend
    from medarc_inspect.medagentbench.medagentbench import medagentbench, medagentbench_v2

    started = time.perf_counter()
    backend = embedded_backend()  # builds the synthetic EHR and its store once per process
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(args.sessions):
        backend.open(f"bench-{n}")
        backend.close(f"bench-{n}")
    session_setup_ms = (time.perf_counter() - started) / args.sessions * 1000

    result: dict[str, object] = {
        "synthetic_ehr_build_s": round(build_s, 2),
        "session_setup_ms": round(session_setup_ms, 4),
    }
    with tempfile.TemporaryDirectory() as log_dir:
        started = time.perf_counter()
        task = medagentbench_v2(baseline="oracle")
        task_build_s = time.perf_counter() - started
        wall, score, _, samples = _run(task, log_dir, args.max_samples)
        result.update(
            oracle_v2_wall_s=round(wall, 2),
            oracle_v2_score=score,
            oracle_v2_samples=samples,
            oracle_v2_per_sample_ms=round(wall / samples * 1000, 1),
            task_build_s=round(task_build_s, 2),
        )
        print(f"synthetic EHR build + store: {build_s:.2f} s; session open+close: {session_setup_ms * 1000:.1f} µs")
        print(
            f"v2 oracle, {samples} tasks: {wall:.1f} s wall ({wall / samples * 1000:.0f} ms per sample), score {score}"
        )
        if not args.skip_baselines:
            table: dict[str, dict[str, int]] = {}
            for name, build in (("v2", medagentbench_v2), ("v1", medagentbench)):
                for baseline in ("noop", "oracle"):
                    _, score, passes, samples = _run(build(baseline=baseline), log_dir, args.max_samples)
                    table[f"{name}_{baseline}"] = {t: passes.get(t, 0) for t in TYPES}
                    result[f"{name}_{baseline}_score"] = round(score, 4)
                    result[f"{name}_{baseline}_passes"] = sum(passes.values())
            print("\npasses out of 30 per task type")
            print(f"{'run':<11}" + "".join(f"{t:>8}" for t in TYPES) + f"{'total':>8}")
            for run, row in table.items():
                print(f"{run:<11}" + "".join(f"{row[t]:>8}" for t in TYPES) + f"{sum(row.values()):>8}")
            result["per_type_passes"] = table
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
