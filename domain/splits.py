"""SPLIT assignment: a pure function of (enrollment id, step id), so a replay picks the same."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

BUCKETS = 10_000


def bucket(enrollment_id: str, step_id: str) -> int:
    """A stable bucket in [0, 10000) from a hash of both ids."""
    digest = hashlib.sha256(f"{enrollment_id}:{step_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose_variant(enrollment_id: str, step_id: str, percentages: Sequence[int]) -> int:
    """The index of the variant whose cumulative percentage range holds the bucket."""
    point = bucket(enrollment_id, step_id)
    ceiling = 0
    for index, percentage in enumerate(percentages):
        ceiling += percentage * BUCKETS // 100
        if point < ceiling:
            return index
    return len(percentages) - 1
