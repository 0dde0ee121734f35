"""The read models' JSON text: compact, sorted, and exact for every value a client can send."""

from __future__ import annotations

import json

import pytest

from storage.values import from_json, to_json


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [1, 2.5, None, True, "x"]},
    {"nested": {"z": {}, "y": []}, "é": "ü\u2028"},
    {"big": 123456789012345678901234567890, "negative": -(2**80)},
    {1: "a key that is not a string"},
    1e16,
])
def test_to_json_is_compact_sorted_and_reads_back_exactly(value: object) -> None:
    text = to_json(value)

    assert " " not in text.replace("a key that is not a string", "")
    assert from_json(text) == json.loads(json.dumps(value))
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        assert list(from_json(text)) == sorted(value)


def test_integers_beyond_64_bits_keep_every_digit() -> None:
    assert from_json(to_json({"n": 123456789012345678901234567891}))["n"] == \
        123456789012345678901234567891
