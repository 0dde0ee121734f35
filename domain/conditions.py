"""Condition rules (CONDITION steps and trigger conditions): their shape and operators."""

from __future__ import annotations

from typing import Any

from domain.errors import Problem

OPERATORS = frozenset(
    {"eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "contains", "isNull", "isNotNull"}
)
UNARY_OPERATORS = frozenset({"isNull", "isNotNull"})
LIST_OPERATORS = frozenset({"in", "notIn"})
COMBINATORS = frozenset({"AND", "OR"})


def rule_problems(rules: Any, where: str) -> list[Problem]:
    """Every reason a list of rules cannot be evaluated; empty when it can."""
    if not isinstance(rules, list):
        return [Problem(where, "must be a list of rules")]
    problems: list[Problem] = []
    for index, rule in enumerate(rules):
        at = f"{where}[{index}]"
        if not isinstance(rule, dict):
            problems.append(Problem(at, "must be an object with field and operator"))
            continue
        unknown = set(rule) - {"field", "operator", "value"}
        if unknown:
            problems.append(Problem(at, f"unknown keys: {', '.join(sorted(unknown))}"))
        field = rule.get("field")
        if not isinstance(field, str) or not field.strip():
            problems.append(Problem(f"{at}.field", "must be a non-empty dotted path"))
        operator = rule.get("operator")
        if operator not in OPERATORS:
            problems.append(
                Problem(
                    f"{at}.operator",
                    f"unknown operator {operator!r}; known: {', '.join(sorted(OPERATORS))}",
                )
            )
        elif operator in LIST_OPERATORS and not isinstance(rule.get("value"), list):
            problems.append(Problem(f"{at}.value", f"operator {operator} needs a list value"))
        elif operator not in UNARY_OPERATORS and "value" not in rule:
            problems.append(Problem(f"{at}.value", f"operator {operator} needs a value"))
    return problems



def lookup(profile: dict[str, Any], path: str) -> Any:
    """A dotted path into nested dicts; a missing field is None."""
    value: Any = profile
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Numbers compare as numbers, ISO dates as instants, strings as strings; else None."""
    if _is_number(left) and _is_number(right):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        left_instant, right_instant = _instant(left), _instant(right)
        if left_instant is not None and right_instant is not None:
            return left_instant, right_instant
        return left, right
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _instant(text: str) -> Any:
    from datetime import UTC, datetime

    if len(text) < 10 or text[4] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _equal(left: Any, right: Any) -> bool:
    pair = _comparable(left, right)
    if pair is not None:
        return bool(pair[0] == pair[1])
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return bool(left == right)


def rule_holds(rule: dict[str, Any], profile: dict[str, Any]) -> tuple[bool, Any]:
    """Whether one rule holds over the profile, and the value it saw there.

    A type mismatch is false, never an error.
    """
    seen = lookup(profile, rule["field"])
    operator, expected = rule["operator"], rule.get("value")
    if operator == "isNull":
        return seen is None, seen
    if operator == "isNotNull":
        return seen is not None, seen
    if seen is None:
        return operator in ("neq", "notIn"), seen
    if operator == "eq":
        return _equal(seen, expected), seen
    if operator == "neq":
        return not _equal(seen, expected), seen
    if operator in ("in", "notIn"):
        found = isinstance(expected, list) and any(_equal(seen, item) for item in expected)
        return found == (operator == "in"), seen
    if operator == "contains":
        if isinstance(seen, list):
            return any(_equal(item, expected) for item in seen), seen
        if isinstance(seen, str) and isinstance(expected, str):
            return expected in seen, seen
        return False, seen
    pair = _comparable(seen, expected)
    if pair is None:
        return False, seen
    left, right = pair
    try:
        result = {"gt": left > right, "gte": left >= right, "lt": left < right,
                  "lte": left <= right}[operator]
    except TypeError:
        return False, seen
    return bool(result), seen


def evaluate(
    rules: list[dict[str, Any]], combinator: str, profile: dict[str, Any]
) -> tuple[bool, dict[str, Any]]:
    """Whether the rules hold (AND or OR), and every field's value as seen, for the record."""
    outcomes = []
    seen: dict[str, Any] = {}
    for rule in rules:
        holds, value = rule_holds(rule, profile)
        outcomes.append(holds)
        seen[rule["field"]] = value
    result = any(outcomes) if combinator == "OR" else all(outcomes)
    return result, seen
