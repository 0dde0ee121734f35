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
