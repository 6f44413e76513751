"""Conditions as data, never ``eval``: ``{"field", "op", "value"}`` leaves in ``{"all"}``/``{"any"}`` groups.

A field is a dotted path into the run's variables (``contact.tags``, ``deal.value``,
``steps.s2.response.status``, ``trigger.body.email``). Comparisons are forgiving in the way a
person means them: text compares without case, numbers as numbers, dates as ISO dates, lists
"contain" an element. ``changed`` and ``changed_to`` read the trigger event's changed fields.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATORS: dict[str, tuple[str, bool]] = {  # op -> (label, needs a value)
    "eq": ("is", True),
    "ne": ("is not", True),
    "contains": ("contains", True),
    "not_contains": ("does not contain", True),
    "gt": ("is greater than", True),
    "gte": ("is at least", True),
    "lt": ("is less than", True),
    "lte": ("is at most", True),
    "is_empty": ("is empty", False),
    "is_not_empty": ("is not empty", False),
    "changed": ("changed", False),
    "changed_to": ("changed to", True),
}
MAX_DEPTH = 5
MAX_LEAVES = 50

_MISSING = object()


def lookup(variables: dict, path: str) -> Any:
    """The value at a dotted path, or ``None`` when any part is missing."""
    value: Any = variables
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else _MISSING
        else:
            return None
        if value is _MISSING:
            return None
    return value


def normalise(conditions: Any) -> dict:
    """A bare list means "all of these"; an empty value means "always"."""
    if not conditions:
        return {"all": []}
    if isinstance(conditions, list):
        return {"all": conditions}
    return conditions


def validate(conditions: Any, known_path, where: str) -> dict[str, str]:
    """Field errors (``where.all.0.op`` -> message) for a condition tree; ``known_path(path)`` says
    whether a field path names a variable."""
    errors: dict[str, str] = {}
    leaves = 0

    def walk(node: Any, at: str, depth: int) -> None:
        nonlocal leaves
        if depth > MAX_DEPTH:
            errors[at] = f"Groups nest at most {MAX_DEPTH} deep"
            return
        if isinstance(node, list):
            node = {"all": node}
        if not isinstance(node, dict):
            errors[at] = "A condition is an object with field, op and value, or an all/any group"
            return
        groups = [key for key in ("all", "any") if key in node]
        if groups:
            if len(groups) > 1 or len(node) > 1:
                errors[at] = "A group has exactly one key: all or any"
                return
            items = node[groups[0]]
            if not isinstance(items, list):
                errors[f"{at}.{groups[0]}"] = "A group holds a list of conditions"
                return
            for index, item in enumerate(items):
                walk(item, f"{at}.{groups[0]}.{index}", depth + 1)
            return
        leaves += 1
        field, op = node.get("field"), node.get("op")
        if not isinstance(field, str) or not field:
            errors[f"{at}.field"] = "Choose a field"
        elif not known_path(field):
            errors[f"{at}.field"] = f"Unknown field {field!r} at this step"
        if op not in OPERATORS:
            errors[f"{at}.op"] = f"Unknown operator {op!r}; use one of {', '.join(OPERATORS)}"
        elif OPERATORS[op][1] and node.get("value") in (None, "") and op not in ("eq", "ne"):
            errors[f"{at}.value"] = "This operator needs a value"
        extra = set(node) - {"field", "op", "value"}
        if extra:
            errors[at] = f"Unexpected key(s): {', '.join(sorted(extra))}"

    walk(conditions, where, 0)
    if leaves > MAX_LEAVES:
        errors[where] = f"At most {MAX_LEAVES} conditions"
    return errors


def evaluate(conditions: Any, variables: dict, changes: dict | None = None) -> bool:
    """Whether the tree holds for ``variables``; ``changes`` maps a changed field path to its new value."""
    node = normalise(conditions)
    if "all" in node:
        return all(evaluate(item, variables, changes) for item in node["all"])
    if "any" in node:
        return any(evaluate(item, variables, changes) for item in node["any"])
    return _leaf(node, variables, changes or {})


def _leaf(node: dict, variables: dict, changes: dict) -> bool:
    field, op, expected = node["field"], node["op"], node.get("value")
    if op == "changed":
        return _short(field) in changes
    if op == "changed_to":
        return _short(field) in changes and _equal(lookup(variables, field), expected)
    actual = lookup(variables, field)
    if op == "is_empty":
        return _empty(actual)
    if op == "is_not_empty":
        return not _empty(actual)
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "contains":
        return _contains(actual, expected)
    if op == "not_contains":
        return not _contains(actual, expected)
    order = _compare(actual, expected)
    if order is None:
        return False
    return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[op]


def _short(field: str) -> str:
    """``contact.lifecycle_stage`` -> ``lifecycle_stage`` (the event names fields without the record)."""
    return field.split(".", 1)[1] if "." in field else field


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return sorted(map(_text, actual)) == sorted(map(_text, expected if isinstance(expected, list) else [expected]))
    if _empty(actual) or _empty(expected):
        return _empty(actual) and _empty(expected)
    number_a, number_b = _number(actual), _number(expected)
    if number_a is not None and number_b is not None:
        return number_a == number_b
    return _text(actual) == _text(expected)


def _contains(actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if isinstance(actual, list):
        return _text(expected) in {_text(item) for item in actual}
    if isinstance(actual, dict):
        return str(expected) in actual
    return _text(expected) in _text(actual)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed


def _compare(actual: Any, expected: Any) -> int | None:
    number_a, number_b = _number(actual), _number(expected)
    if number_a is not None and number_b is not None:
        return (number_a > number_b) - (number_a < number_b)
    moment_a, moment_b = _moment(actual), _moment(expected)
    if moment_a is not None and moment_b is not None:
        if (moment_a.tzinfo is None) != (moment_b.tzinfo is None):
            moment_a, moment_b = moment_a.replace(tzinfo=None), moment_b.replace(tzinfo=None)
        return (moment_a > moment_b) - (moment_a < moment_b)
    if actual is None or expected is None:
        return None
    return (_text(actual) > _text(expected)) - (_text(actual) < _text(expected))
