"""One way to retry a command whose save lost an optimistic-concurrency race."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from eventsourcing.persistence import RecordConflictError

from domain.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 10


def until_saved(attempt: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """Run `attempt` (load, decide, save) again while another writer wins the race, with
    jittered backoff so colliding writers spread out; then 409 BUSY."""
    for number in range(attempts):
        try:
            return attempt()
        except RecordConflictError:
            time.sleep(random.uniform(0, 0.002 * 2**number))
    raise Conflict(f"{what} is being changed concurrently; try again", code="BUSY")
