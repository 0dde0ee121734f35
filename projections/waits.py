"""Read-your-writes: a command waits until every read model has applied its position, so a
GET after its answer reflects it (`decisions/0004`, `decisions/0012`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from projections.progress import LocalProgress
from projections.tracking import PROJECTED_CHANNEL, RESET, Tracking
from storage.database import Database

READ_AFTER = 0.05  # seconds without an answer after which the positions are read
IDLE = 10.0  # seconds without a wait after which the listening thread ends


class ProjectedWatch:
    """What this process knows of the positions from the batches committed by any runner,
    in any process: each batch announces its new position and projections on
    `PROJECTED_CHANNEL` (delivered after the commit), so a wait is answered from memory
    instead of by a query per batch. A reset announces itself, and what is known is
    forgotten; so it is whenever LISTEN is (again) put in place, since announcements may
    have been missed meanwhile. The listening thread starts with the first wait and ends
    after `idle` seconds without one."""

    def __init__(self, database: Database, idle: float = IDLE) -> None:
        self.database = database
        self.idle = idle
        self.listening = False
        self.generation = 0
        self._known: dict[str, int] = {}
        self._changed = threading.Condition()
        self._running = False
        self._last_wait = 0.0

    def start(self) -> None:
        with self._changed:
            self._last_wait = time.monotonic()
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._listen, name="projections-watch", daemon=True).start()

    def wait(self, seen: int, timeout: float) -> bool:
        """True when a batch was announced since generation `seen`, False after `timeout`."""
        with self._changed:
            return self._changed.wait_for(lambda: self.generation != seen, timeout)

    def reached(self, names: Iterable[str], position: int) -> bool:
        """Whether every one of `names` is known to have applied `position`."""
        with self._changed:
            return self.listening and all(self._known.get(n, 0) >= position for n in names)

    def knows(self, names: Iterable[str]) -> bool:
        """Whether, listening, a position of every one of `names` was heard: what each has
        applied since is announced too, so a wait needs no read to start."""
        with self._changed:
            return self.listening and all(name in self._known for name in names)

    def learn(self, positions: dict[str, int]) -> None:
        """Take positions read from the tracking table (while listening)."""
        with self._changed:
            if self.listening:
                for name, position in positions.items():
                    self._known[name] = max(self._known.get(name, 0), position)

    def _listen(self) -> None:
        def done() -> bool:
            with self._changed:
                if time.monotonic() - self._last_wait < self.idle:
                    return False
                self._running = self.listening = False
                return True

        def listening() -> None:
            with self._changed:
                self._known.clear()
                self.listening = True

        try:
            self.database.listen(PROJECTED_CHANNEL, self._notified, done, listening)
        finally:  # also after an unexpected error: the next wait starts a new listener
            with self._changed:
                self._running = self.listening = False

    def _notified(self, payload: str) -> None:
        with self._changed:
            if payload == RESET:
                self._known.clear()
            elif payload:
                position, names = payload.split(" ", 1)
                for name in names.split(","):
                    self._known[name] = max(self._known.get(name, 0), int(position))
            self.generation += 1
            self._changed.notify_all()


class ConsistencyWait:
    """Answered by the batches' announcements where the database makes them
    (`ProjectedWatch`), by the commits of this process's own loop where one follows the
    log, and otherwise by reading the positions, every 2 to 10 ms."""

    def __init__(self, database: Database, tracking: Tracking, progress: LocalProgress) -> None:
        self.tracking = tracking
        self.progress = progress
        self.watch = ProjectedWatch(database) if database.notifies else None

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every projection has applied `position`; False on timeout. The
        positions are read when nothing has answered for READ_AFTER seconds, and at the
        start unless this process follows the log or has heard a position of every
        projection."""
        with self.progress.waiter():
            return self._wait_for(position, timeout)

    def _wait_for(self, position: int, timeout: float) -> bool:
        names = list(self.tracking.projections)
        progress, watch = self.progress, self.watch
        deadline = time.monotonic() + timeout
        if watch:
            watch.start()
        delay = 0.002
        # Read first unless an answer is on its way: this process's loop, nudged, or
        # announcements of every projection heard (one comes for each commit still to come).
        read = not (progress.following or (watch and watch.knows(names)))
        while True:
            seen = watch.generation if watch else 0
            local_seen = progress.generation
            if watch and watch.reached(names, position):
                return True
            if progress.following and progress.reached(names, position):
                return True
            if read:
                positions = self.tracking.positions()
                if watch:
                    watch.learn(positions)
                if min(positions.values(), default=position) >= position:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if watch and watch.listening:
                read = not watch.wait(seen, min(left, READ_AFTER))
            elif progress.following:
                read = not progress.wait_applied(local_seen, min(left, READ_AFTER))
            else:
                read = True
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.01)
