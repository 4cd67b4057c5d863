"""Inspect entry point: every @task and model provider of the package."""

# ruff: noqa: F401
from medarc_inspect.healthbench import healthbench, healthbench_consensus, healthbench_hard, healthbench_meta_eval
from medarc_inspect.medagentbench.medagentbench import medagentbench, medagentbench_v2
from medarc_inspect.medical_safety import medical_jailbreak, medical_overrefusal, medical_safety_tradeoff, rbr_meta_eval
from medarc_inspect.medsafetybench import medsafetybench
from medarc_inspect.mtsamples import mtsamples_procedures, mtsamples_replicate
from medarc_inspect.testing.models import medarc_mock
from medarc_inspect.testing.offline import prefill_tiktoken_cache

prefill_tiktoken_cache()  # mockllm/model then needs no download (see testing/offline.py)
