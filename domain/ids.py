"""Server-made ids: opaque, prefixed by type, and checked before any lookup."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import uuid4

IdFactory = Callable[[str], str]

_PATTERN = re.compile(r"^(journey|step|enrollment)_[0-9a-f]{32}$")


def random_id(prefix: str) -> str:
    """The production id factory: a prefix and a random UUID's hex."""
    return f"{prefix}_{uuid4().hex}"


def is_id_of(kind: str, value: str) -> bool:
    """Whether `value` is shaped like an id of `kind` (so a malformed id is a plain 404)."""
    match = _PATTERN.match(value)
    return match is not None and match.group(1) == kind
