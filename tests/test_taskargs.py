"""Task-argument checks: what each accepts, what it refuses, and the one-line message."""

import pytest

from medarc_inspect import taskargs
from medarc_inspect.taskargs import TaskArgError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("FALSE", False), ("1", True), ("0", False)],
)
def test_flag_accepts_only_booleans_and_their_spellings(value, expected):
    assert taskargs.flag("use_think", value) is expected


@pytest.mark.parametrize("value", ["maybe", "yes", "", 2, -1, 0.5, None, [True]])
def test_flag_refuses_anything_else_in_one_line(value):
    with pytest.raises(TaskArgError) as err:
        taskargs.flag("truncate_1000", value)
    message = str(err.value)
    assert message.startswith("-T truncate_1000=") and "true or false" in message and "\n" not in message


def test_integer_bounds_types_and_null():
    assert taskargs.integer("judge_max_retries", 0, minimum=0) == 0
    assert taskargs.integer("judge_max_retries", None, minimum=0, optional=True) is None
    for bad in (-1, True, 2.0, "3", None):
        with pytest.raises(TaskArgError, match=r"^-T judge_max_retries=.* whole number >= 0"):
            taskargs.integer("judge_max_retries", bad, minimum=0)
    with pytest.raises(TaskArgError, match="from 1 to 9"):
        taskargs.integer("k", 10, minimum=1, maximum=9)


def test_number_refuses_booleans_text_and_nan():
    assert taskargs.number("p", 1, minimum=0) == 1.0
    for bad in (True, "0.5", float("nan"), -0.1):
        with pytest.raises(TaskArgError, match=r"^-T p="):
            taskargs.number("p", bad, minimum=0)


def test_one_of_names_the_allowed_values():
    assert taskargs.one_of("judge_failure", "helm", ["exclude", "medarc", "helm"]) == "helm"
    with pytest.raises(TaskArgError, match=r"^-T judge_failure='foo' is invalid: use one of exclude, medarc, helm$"):
        taskargs.one_of("judge_failure", "foo", ["exclude", "medarc", "helm"])
    with pytest.raises(TaskArgError):
        taskargs.one_of("judge_failure", "HELM", ["exclude", "medarc", "helm"])


def test_subset_parses_lists_single_values_and_comma_text_in_allowed_order():
    allowed = list(range(1, 10))
    assert taskargs.subset("categories", [3, 1, 3], allowed, parse=int) == [1, 3]
    assert taskargs.subset("categories", "9, 2", allowed, parse=int) == [2, 9]
    assert taskargs.subset("categories", 4, allowed, parse=int) == [4]
    for bad in ([], [0], [True], "1,x", [10]):
        with pytest.raises(TaskArgError, match="non-empty list from 1, 2"):
            taskargs.subset("categories", bad, allowed, parse=int)


def test_text_and_cache_setting():
    assert taskargs.text("system_prompt", "Be brief.") == "Be brief."
    assert taskargs.text("tasks_path", None, optional=True) is None
    with pytest.raises(TaskArgError):
        taskargs.text("system_prompt", "  ")
    assert taskargs.cache_setting("judge_cache", True) is True
    assert taskargs.cache_setting("judge_cache", "false") is False
    assert taskargs.cache_setting("judge_cache", "12h") == "12h"
    for bad in ("forever", "1w", "0D", "W", 7):
        with pytest.raises(TaskArgError, match=r"expiry: a number and one of s m h D W M Y"):
            taskargs.cache_setting("judge_cache", bad)


def test_long_values_are_shortened_in_the_message():
    with pytest.raises(TaskArgError) as err:
        taskargs.one_of("condition", "x" * 500, ["baseline"])
    assert len(str(err.value)) < 160
