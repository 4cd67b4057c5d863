"""LLM-judge panels: resolve judges, ask them concurrently, parse robustly, count every failure."""

from medarc_inspect.judging.metrics import judge_failure_rate, judge_failures, unscored
from medarc_inspect.judging.panel import (
    JUDGE_ROLE,
    JudgeAPIError,
    JudgeCallError,
    JudgeConfigError,
    JudgePanel,
    JudgeVerdict,
    is_judge_api_error,
    judge_cache_policy,
    resolve_judges,
)
from medarc_inspect.judging.parsing import JudgeParseError, as_score, json_candidates, parse_json_reply
from medarc_inspect.judging.setup import JudgeSetup, checked_judge, judge_names, judge_setup
from medarc_inspect.judging.slots import SlotError, fill_slots, slot_pattern

__all__ = [
    "JUDGE_ROLE",
    "JudgeAPIError",
    "JudgeCallError",
    "JudgeSetup",
    "checked_judge",
    "is_judge_api_error",
    "judge_names",
    "judge_setup",
    "JudgeConfigError",
    "JudgePanel",
    "JudgeParseError",
    "JudgeVerdict",
    "SlotError",
    "as_score",
    "fill_slots",
    "judge_cache_policy",
    "judge_failure_rate",
    "judge_failures",
    "json_candidates",
    "parse_json_reply",
    "resolve_judges",
    "slot_pattern",
    "unscored",
]
