"""Request bodies: nesting too deep is refused before the parser recurses into it."""

from __future__ import annotations

import json

import pytest

from api.app import MAX_PARSED_DEPTH, _loads, _too_deep


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_is_measured_without_recursion() -> None:
    assert not _too_deep(nested(MAX_PARSED_DEPTH))
    assert _too_deep(nested(MAX_PARSED_DEPTH + 1))
    assert _too_deep(nested(1_000_000))


def test_many_shallow_brackets_and_brackets_in_strings_are_not_depth() -> None:
    batch = json.dumps({"events": [{"data": {"a": [1, {"b": []}]}} for _ in range(1000)]})
    assert not _too_deep(batch)
    assert not _too_deep(json.dumps({"text": "[" * 10_000 + '\\"' + "{" * 10_000}))
    assert _loads(batch)["events"][999]["data"]["a"][1] == {"b": []}


def test_a_body_too_deep_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="deeper than"):
        _loads(nested(100_000))
