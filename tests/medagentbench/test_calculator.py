"""The calculator tool's evaluator: arithmetic and date maths, and refusal of everything else."""

from __future__ import annotations

import time

import pytest

from medarc_inspect.medagentbench.calculator import MAX_EXPRESSION_CHARS, CalculatorError, evaluate, format_result


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(72 + 80 + 91) / 3", 81),
        ("(3.5 - 3.1) / 0.1 * 10", pytest.approx(40)),
        ("2 ** 10", 1024),
        ("-2 ** 2", -4),
        ("7 // 2 + 7 % 2", 4),
        ("round(81.456, 2)", 81.46),
        ("mean(1, 2, 3, 4)", 2.5),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("sqrt(16) + abs(-1)", 5),
        ("days_between('2022-11-07', '2023-11-07')", 365),
        ("hours_between('2023-11-11T09:00:00+00:00', '2023-11-13T10:00:00+00:00')", 49),
        ("3 > 2", True),
    ],
)
def test_arithmetic_and_dates(expression: str, expected: object) -> None:
    assert evaluate(expression) == expected


def test_date_values_and_formatting() -> None:
    span = evaluate("datetime('2023-11-13T10:15:00+00:00') - datetime('2023-11-12T10:15:00+00:00')")
    assert format_result(span) == "1 days (24 hours)"
    assert format_result(evaluate("date('2023-11-13') + days(2)")) == "2023-11-15"
    assert format_result(evaluate("datetime('2023-11-13T10:15:00+00:00') - hours(24)")) == "2023-11-12T10:15:00+00:00"
    assert format_result(evaluate("10 / 4")) == "2.5"
    assert format_result(evaluate("10 / 5")) == "2"


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('echo hi')",
        "(1).__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "date('2023-11-13').year",
        "open('/etc/passwd')",
        "[x for x in range(10)]",
        "lambda: 1",
        "x",
        "round(1.5, digits=1)",
        "'abc' * 1000",
        "{'a': 1}",
        "[1, 2][0]",
        "eval('1')",
        "1 if 1 else 2",
        "f'{1}'",
    ],
)
def test_refuses_everything_but_arithmetic(expression: str) -> None:
    with pytest.raises(CalculatorError):
        evaluate(expression)


@pytest.mark.parametrize(
    "expression",
    ["9 ** 9 ** 9", "10 ** 1000", "2 ** 2 ** 2 ** 2 ** 2", "(10 ** 99) * (10 ** 99)", "exp(1000)", "1e308 * 10"],
)
def test_huge_numbers_are_refused_quickly(expression: str) -> None:
    start = time.perf_counter()
    with pytest.raises(CalculatorError):
        evaluate(expression)
    assert time.perf_counter() - start < 1  # a bound against hanging, not a timing measurement


def test_long_and_deep_input_is_refused() -> None:
    with pytest.raises(CalculatorError, match="longer than"):
        evaluate("1+" * MAX_EXPRESSION_CHARS + "1")
    with pytest.raises(CalculatorError):
        evaluate("-" * 400 + "1")
    with pytest.raises(CalculatorError, match="parts"):
        evaluate("+".join(["1"] * 240))
    with pytest.raises(CalculatorError):
        evaluate(12)  # type: ignore[arg-type]


def test_errors_are_explained() -> None:
    with pytest.raises(CalculatorError, match="division by zero"):
        evaluate("1 / 0")
    with pytest.raises(CalculatorError, match="not an ISO"):
        evaluate("date('yesterday')")
    with pytest.raises(CalculatorError, match="not available"):
        evaluate("system(1)")
