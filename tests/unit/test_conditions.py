"""Condition operators, with missing fields and type mismatches (false, never an error)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.conditions import evaluate, rule_holds

PROFILE: dict[str, Any] = {
    "score": 72,
    "ratio": 0.5,
    "tier": "Gold",
    "optIn": True,
    "tags": ["vip", "beta"],
    "joined": "2025-01-15T10:00:00Z",
    "nested": {"city": "Cape Town"},
    "nothing": None,
}


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("score", "eq", 72, True),
        ("score", "eq", 72.0, True),
        ("score", "eq", "72", False),
        ("score", "neq", 71, True),
        ("score", "gt", 70, True),
        ("score", "gte", 72, True),
        ("score", "lt", 72, False),
        ("score", "lte", 72.5, True),
        ("score", "gt", "70", False),
        ("tier", "gt", 3, False),
        ("ratio", "lt", 1, True),
        ("tier", "in", ["Gold", "Platinum"], True),
        ("tier", "notIn", ["Gold"], False),
        ("tier", "in", "Gold", False),
        ("tags", "contains", "vip", True),
        ("tags", "contains", "gamma", False),
        ("tier", "contains", "ol", True),
        ("score", "contains", 7, False),
        ("optIn", "eq", True, True),
        ("optIn", "eq", 1, False),
        ("joined", "gt", "2025-01-01T00:00:00Z", True),
        ("joined", "lt", "2025-01-15T12:00:00+01:00", True),
        ("joined", "eq", "2025-01-15T12:00:00+02:00", True),
        ("nested.city", "eq", "Cape Town", True),
        ("missing", "isNull", None, True),
        ("nothing", "isNull", None, True),
        ("score", "isNotNull", None, True),
        ("missing", "isNotNull", None, False),
        ("missing", "eq", "x", False),
        ("missing", "gt", 1, False),
        ("missing", "neq", "x", True),
        ("missing", "notIn", ["x"], True),
        ("missing", "contains", "x", False),
        ("nested.city.name", "eq", "x", False),
    ],
)
def test_operators(field: str, operator: str, value: Any, expected: bool) -> None:
    holds, _seen = rule_holds({"field": field, "operator": operator, "value": value}, PROFILE)

    assert holds is expected


def test_and_or_and_the_values_seen_are_recorded() -> None:
    rules = [{"field": "score", "operator": "gte", "value": 90},
             {"field": "tier", "operator": "eq", "value": "Gold"}]

    assert evaluate(rules, "AND", PROFILE) == (False, {"score": 72, "tier": "Gold"})
    assert evaluate(rules, "OR", PROFILE)[0] is True
    assert evaluate([], "AND", PROFILE)[0] is True
