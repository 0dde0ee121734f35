"""How values are written into read-model columns: JSON as compact text, instants as
fixed-width UTC text."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, overload

import orjson

from domain.calendar import api_instant


@overload
def iso(instant: datetime) -> str: ...


@overload
def iso(instant: None) -> None: ...


def iso(instant: datetime | None) -> str | None:
    """UTC ISO-8601 with millisecond precision and a Z: fixed width, so it sorts as text."""
    return None if instant is None else api_instant(instant)


def to_json(value: Any) -> str:
    """Compact JSON with sorted keys, by orjson; what orjson refuses (integers beyond 64
    bits, keys that are not strings) by the standard library, in the same compact form."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def from_json(text: str | None) -> Any:
    """By the standard library: orjson reads integers beyond 64 bits as floats."""
    return None if text is None else json.loads(text)
