"""Applies the event log to the read models, exactly once.

Each projection has one row in `projection_tracking`. A batch of notifications is applied
in one transaction that first moves the tracking row from the position it was read at
(compare-and-set), so a second runner racing on the same batch rolls back instead of
applying it twice. The library's subscription-based ProjectionRunner is not used because
SQLite has no subscription; see docs/decisions/0003-projection-runner.md.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Notification, PersistenceError

from projections.progress import LocalProgress
from projections.projection import Projection
from projections.statistics import PlannerStatistics
from projections.tracking import PROJECTED_CHANNEL, Tracking, move_tracking, record_failure
from storage.database import Cursor, Database
from storage.event_log import EventLog, Item

log = logging.getLogger(__name__)

# A batch of at most this many notifications is applied in PostgreSQL's pipeline mode: it is
# waited on once per read instead of once per statement, but without COPY (decisions/0023).
PIPELINE_MAX = 50
STALL_LIMIT = 60.0  # seconds a catch-up waits for other runners before it gives up


class TrackingMoved(Exception):
    """Another runner applied this batch first; ours is rolled back."""


def announce_commit(cursor: Cursor, names: Sequence[str], position: int) -> None:
    """In a transaction that moves these projections to `position`: commit it without
    waiting for the disk (a read model is derived again from the log), and announce it on
    commit, which answers the consistency waits of every process."""
    cursor.commit_lazily()
    cursor.announce(PROJECTED_CHANNEL, f"{position} {','.join(names)}")


class ProjectionRunner:
    def __init__(
        self,
        log_: EventLog,
        database: Database,
        projections: Sequence[Projection],
        batch_size: int = 1000,
        progress: LocalProgress | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`clock`: when a failure is recorded (wall-clock time)."""
        self.log = log_
        self.database = database
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self.tracking = Tracking(database, log_, projections)
        self.progress = progress or LocalProgress()
        self.statistics = PlannerStatistics(
            database, [log_.table, *(t for p in projections for t in p.tables)])
        self.stall_limit = STALL_LIMIT
        self.clock = clock

    def positions(self) -> dict[str, int]:
        return self.tracking.positions()

    def head(self) -> int:
        return self.log.head()

    def only(self, names: Sequence[str]) -> ProjectionRunner:
        """A runner of some of these projections (to apply them apart)."""
        return ProjectionRunner(self.log, self.database, [self.projections[n] for n in names],
                                self.batch_size, self.progress, self.clock)

    def reset(self, names: Sequence[str], *, indexes: bool = True) -> None:
        """Drop and recreate the named read models at position 0 (`Tracking.reset`)."""
        self.tracking.reset(names, indexes=indexes)
        self.progress.forget(names)

    def run_once(self) -> int:
        """Apply at most one batch per group of projections at the same position.

        A group reads only its projections' topics, up to the head as it was before the
        read. A batch shorter than `batch_size` has everything of those topics up to that
        head, so the group's tracking moves to the head, past events it does not read;
        events are committed in notification-id order (the store's table lock on
        PostgreSQL, one writer on SQLite), so no lower id can appear behind the head."""
        groups: dict[int, list[Projection]] = defaultdict(list)
        positions, head = self.tracking.positions_and_head()
        self.progress.read(positions)
        for name, position in positions.items():
            groups[position].append(self.projections[name])
        applied = 0
        for position, projections in sorted(groups.items()):
            if position >= head:
                continue
            topics = sorted(set().union(*(p.topics for p in projections)))
            notifications = self.log.read(position + 1, head, topics, self.batch_size)
            last = notifications[-1].id if len(notifications) == self.batch_size else head
            try:
                self._apply_batch(position, last, projections, notifications)
            except TrackingMoved:
                log.debug("another runner applied the batch after %s first", position)
                continue
            except PersistenceError:
                raise  # the database, not the events: the batch is applied again later
            except Exception:
                log.exception("a batch after %s failed; applying its events one by one", position)
                if not self._apply_apart(position, last, projections, notifications):
                    continue
            applied += last - position
        return applied

    def _apply_apart(self, position: int, last: int, projections: list[Projection],
                     notifications: Sequence[Notification]) -> bool:
        """Each projection's events one at a time; one that fails is set aside: recorded in
        `projection_failures` with its error, and passed over, so one poisoned event never
        stops a read model for every tenant. False if another runner moved first."""
        for projection in projections:
            at = position
            try:
                for notification in notifications:
                    if notification.topic not in projection.topics:
                        continue
                    try:
                        self._apply_batch(at, notification.id, [projection], [notification])
                    except (TrackingMoved, PersistenceError):
                        raise
                    except Exception as error:  # noqa: BLE001 - kept with the event
                        self._set_aside(at, projection, notification, error)
                    at = notification.id
                self._apply_batch(at, last, [projection], [])
            except TrackingMoved:
                return False
        return True

    def _set_aside(self, position: int, projection: Projection, notification: Notification,
                   error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        log.error("read model %s sets aside event %s (%s of %s): %s", projection.name,
                  notification.id, notification.topic, notification.originator_id, reason)
        with self.database.transaction() as cursor:
            if not move_tracking(cursor, [projection.name], position, notification.id):
                raise TrackingMoved(projection.name)
            record_failure(cursor, projection.name, notification, reason, self.clock())
        self.progress.committed([projection.name], notification.id)

    def _apply_batch(
        self,
        position: int,
        last: int,
        projections: list[Projection],
        notifications: Sequence[Notification],
    ) -> None:
        events: dict[int, Any] = {}

        def decoded(notification: Notification) -> Item:
            if notification.id not in events:
                events[notification.id] = self.log.decode(notification)
            return events[notification.id], notification.id

        names = [projection.name for projection in projections]
        with self.database.transaction(pipeline=len(notifications) <= PIPELINE_MAX) as cursor:
            if not move_tracking(cursor, names, position, last):
                raise TrackingMoved(", ".join(names))
            announce_commit(cursor, names, last)
            for projection in projections:
                items = [decoded(n) for n in notifications if n.topic in projection.topics]
                if items:
                    projection.apply_batch(cursor, items)
        self.progress.committed(names, last)

    def catch_up(self, progress: Callable[[int], object] | None = None) -> int:
        """Apply everything recorded so far; returns how many notifications this runner
        applied. Returns only when every projection has reached the head of the log as it
        was at the call, also when another runner applied some of the batches meanwhile."""
        target = self.head()
        total = 0
        seen: dict[str, int] = {}
        moved_at = time.monotonic()
        while True:
            self.statistics.keep()
            applied = self.run_once()
            if applied:
                total += applied
                if progress:
                    progress(applied)
                continue
            positions = self.positions()
            if min(positions.values(), default=target) >= target:
                return total
            # Another runner holds or just applied the next batch: look again, unless
            # nobody has moved any position for `stall_limit` seconds.
            now = time.monotonic()
            if positions != seen:
                seen, moved_at = positions, now
            elif now - moved_at > self.stall_limit:
                raise RuntimeError(f"projections stopped at {positions} below the head "
                                   f"{target} for {self.stall_limit:.0f}s")
            time.sleep(0.005)
