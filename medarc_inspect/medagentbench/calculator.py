"""A restricted calculator for the v2 agent: arithmetic and date maths on a parsed AST, never `eval`.

Allowed: numbers, `+ - * / // % **`, parentheses, unary `+`/`-`, comparisons, and the functions in
`FUNCTIONS` (rounding, min/max/mean, sqrt/log/exp, and dates: `date("2023-11-13")`,
`datetime("2023-11-13T10:15:00+00:00")`, `days(n)`, `hours(n)`, `minutes(n)`, `days_between(a, b)`,
`hours_between(a, b)`). Dates minus dates give a time span; spans and dates add. Names, attributes,
subscripts, lambdas, comprehensions and keyword arguments are refused. Limits keep a hostile input cheap:
at most `MAX_EXPRESSION_CHARS` characters and `MAX_NODES` syntax nodes, exponents up to `MAX_EXPONENT`,
and numbers up to `MAX_MAGNITUDE`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

MAX_EXPRESSION_CHARS = 500
MAX_NODES = 200
MAX_EXPONENT = 100
MAX_MAGNITUDE = 1e100
MAX_STRING_CHARS = 40


class CalculatorError(ValueError):
    """An expression the calculator refuses or cannot evaluate (the message says why)."""


def _parse_datetime(text: Any) -> datetime:
    if not isinstance(text, str):
        raise CalculatorError("datetime() takes an ISO 8601 text such as '2023-11-13T10:15:00+00:00'")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CalculatorError(f"not an ISO 8601 date-time: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse_date(text: Any) -> date:
    if not isinstance(text, str):
        raise CalculatorError("date() takes an ISO date text such as '2023-11-13'")
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise CalculatorError(f"not an ISO date: {text!r}") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalculatorError(f"expected a number, got {_kind(value)}")
    return value


def _span(unit: str) -> Callable[[Any], timedelta]:
    def make(n: Any) -> timedelta:
        n = _number(n)
        if abs(n) > 1e6:
            raise CalculatorError(f"{unit}() is limited to 1,000,000")
        return timedelta(**{unit: n})

    return make


def _between(unit_seconds: float) -> Callable[[Any, Any], float]:
    def between(a: Any, b: Any) -> float:
        first, second = _as_moment(a), _as_moment(b)
        return (second - first).total_seconds() / unit_seconds

    return between


def _as_moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return _parse_datetime(value) if "T" in value else _as_moment(_parse_date(value))
    raise CalculatorError(f"expected a date, got {_kind(value)}")


def _mean(*values: Any) -> float:
    if not values:
        raise CalculatorError("mean() needs at least one number")
    return sum(_number(v) for v in values) / len(values)


def _log(x: Any, base: Any = math.e) -> float:
    x, base = _number(x), _number(base)
    if x <= 0 or base <= 0 or base == 1:
        raise CalculatorError("log() needs a positive number and a positive base other than 1")
    return math.log(x, base)


def _sqrt(x: Any) -> float:
    x = _number(x)
    if x < 0:
        raise CalculatorError("sqrt() of a negative number")
    return math.sqrt(x)


def _exp(x: Any) -> float:
    x = _number(x)
    if x > 230:
        raise CalculatorError("exp() argument too large")
    return math.exp(x)


def _round(x: Any, digits: Any = 0) -> float:
    digits = _number(digits)
    if not isinstance(digits, int) or not 0 <= digits <= 15:
        raise CalculatorError("round() takes 0 to 15 digits")
    result = round(_number(x), digits)
    return int(result) if digits == 0 else result


def _minmax(pick: Callable) -> Callable:
    def choose(*values: Any) -> Any:
        if not values:
            raise CalculatorError("min()/max() need at least one value")
        return pick(values)

    return choose


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": lambda x: abs(_number(x)),
    "round": _round,
    "floor": lambda x: math.floor(_number(x)),
    "ceil": lambda x: math.ceil(_number(x)),
    "min": _minmax(min),
    "max": _minmax(max),
    "mean": _mean,
    "sqrt": _sqrt,
    "log": _log,
    "exp": _exp,
    "date": _parse_date,
    "datetime": _parse_datetime,
    "days": _span("days"),
    "hours": _span("hours"),
    "minutes": _span("minutes"),
    "days_between": _between(86400.0),
    "hours_between": _between(3600.0),
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def evaluate(expression: Any) -> Any:
    """The value of `expression` (a number, a date, a time span or a truth value); CalculatorError if refused."""
    if not isinstance(expression, str):
        raise CalculatorError("the expression must be text")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        raise CalculatorError(f"cannot parse the expression: {type(e).__name__}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError(f"expression has more than {MAX_NODES} parts")
    try:
        return _check(_eval(tree.body))
    except CalculatorError:
        raise
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except (OverflowError, TypeError, ValueError, RecursionError) as e:
        raise CalculatorError(f"cannot evaluate: {e}") from None


def format_result(value: Any) -> str:
    """The text shown to the model: ISO text for dates, days and hours for spans, plain numbers otherwise."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return f"{seconds / 86400:g} days ({seconds / 3600:g} hours)"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float | str):
            raise CalculatorError(f"constant {node.value!r} is not allowed")
        if isinstance(node.value, str) and len(node.value) > MAX_STRING_CHARS:
            raise CalculatorError("text constants are only for dates")
        return _check(node.value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalculatorError(f"unknown name {node.id!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _eval(node.operand)
        if isinstance(value, str):
            raise CalculatorError("sign on text")
        return +value if isinstance(node.op, ast.UAdd) else -value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(left, str) or isinstance(right, str):
            raise CalculatorError("arithmetic on text: use date('...') or datetime('...')")
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise CalculatorError(f"function {shown!r} is not available; use one of {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise CalculatorError("keyword arguments are not allowed")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise CalculatorError("starred arguments are not allowed")
        args = [_eval(arg) for arg in node.args]
        try:
            return _check(FUNCTIONS[node.func.id](*args))
        except TypeError:
            raise CalculatorError(f"wrong number or kind of arguments for {node.func.id}()") from None
    raise CalculatorError(f"{type(node).__name__} is not allowed (only arithmetic, comparisons and listed functions)")


def _check_power(base: Any, exponent: Any) -> None:
    if not isinstance(base, int | float) or not isinstance(exponent, int | float):
        raise CalculatorError("** works on numbers only")
    if abs(exponent) > MAX_EXPONENT:
        raise CalculatorError(f"exponent larger than {MAX_EXPONENT}")
    if base != 0 and abs(exponent) * math.log10(abs(base)) > math.log10(MAX_MAGNITUDE):
        raise CalculatorError("result too large")


def _check(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            raise CalculatorError("result is not a number")
        if abs(value) > MAX_MAGNITUDE:
            raise CalculatorError("result too large")
    return value


def _kind(value: Any) -> str:
    return type(value).__name__
