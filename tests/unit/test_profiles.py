from __future__ import annotations

from domain.profiles import apply_updates


def test_update_actions() -> None:
    attributes = {"tags": ["a"], "score": 1, "name": "x", "deep": {"k": 1}}

    result, changes = apply_updates(attributes, [
        {"field": "tags", "action": "add", "value": "b"},
        {"field": "tags", "action": "add", "value": "b"},
        {"field": "tags", "action": "remove", "value": "a"},
        {"field": "score", "action": "increment", "value": 5},
        {"field": "visits", "action": "increment"},
        {"field": "name", "action": "unset"},
        {"field": "deep.k", "action": "set", "value": 2},
        {"field": "new.path", "action": "set", "value": True},
        {"field": "deep", "action": "increment"},
    ])

    assert result == {"tags": ["b"], "score": 6, "visits": 1, "deep": {"k": 2},
                      "new": {"path": True}}
    assert attributes["tags"] == ["a"], "the input is not mutated"
    assert changes[3] == {"field": "score", "action": "increment", "before": 1, "after": 6}
    assert changes[-1]["skipped"] == "not a number"
