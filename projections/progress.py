"""What the projection loop of this process has applied, and who in this process waits
for it: shared by the runner (which reports its commits), the consistency waits (which
are answered by them) and the loop following the log (which holds its batches through a
burst unless someone waits)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class LocalProgress:
    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.wake = threading.Event()  # asks a loop of this process to poll now
        self.following = 0  # loops of this process following the log
        self.waiting = 0  # consistency waits of this process
        self.generation = 0  # moves with every commit reported
        self._applied: dict[str, int] = {}

    def committed(self, names: Iterable[str], position: int) -> None:
        """A batch of this process moved these projections to `position`."""
        with self.changed:
            for name in names:
                self._applied[name] = max(self._applied.get(name, 0), position)
            self.generation += 1
            self.changed.notify_all()

    def read(self, positions: dict[str, int]) -> None:
        """Take positions read from the tracking table as what is applied: higher ones
        (another runner's batches) answer waits too; a lower one was set back (a reset
        elsewhere), and what this process knew of it no longer holds."""
        with self.changed:
            raised = False
            for name, position in positions.items():
                raised = raised or position > self._applied.get(name, 0)
                self._applied[name] = position
            if raised:
                self.generation += 1
                self.changed.notify_all()

    def forget(self, names: Iterable[str]) -> None:
        """These projections were reset to the start of the log."""
        self.read(dict.fromkeys(names, 0))

    def reached(self, names: Iterable[str], position: int) -> bool:
        with self.changed:
            return all(self._applied.get(name, 0) >= position for name in names)

    def wait_applied(self, seen: int, timeout: float) -> bool:
        """True when a commit was reported since generation `seen`, False after `timeout`."""
        with self.changed:
            return self.changed.wait_for(lambda: self.generation != seen, timeout)

    @contextmanager
    def follower(self) -> Iterator[None]:
        """A loop of this process follows the log meanwhile."""
        with self.changed:
            self.following += 1
        try:
            yield
        finally:
            with self.changed:
                self.following -= 1

    @contextmanager
    def waiter(self) -> Iterator[None]:
        """A consistency wait is under way: a loop holding its batches goes on."""
        with self.changed:
            self.waiting += 1
            self.changed.notify_all()
        self.wake.set()
        try:
            yield
        finally:
            with self.changed:
                self.waiting -= 1
