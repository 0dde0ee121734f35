"""Follows the event log and keeps every projection exactly-once.

Each projection has one row in `projection_tracking`. A batch of notifications is applied
in one transaction that first moves the tracking row from the position it was read at
(compare-and-set), so a second runner racing on the same batch rolls back instead of
applying it twice. The library's subscription-based ProjectionRunner is not used because
SQLite has no subscription; see docs/decisions/0003-projection-runner.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, Notification

from projections.database import Cursor, Database
from projections.projection import Projection

log = logging.getLogger(__name__)

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


def move_tracking(cursor: Cursor, name: str, expected: int, position: int) -> bool:
    """Compare-and-set of a tracking row: False if someone else moved it from `expected`."""
    moved = cursor.execute(
        "UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ? "
        "RETURNING position",
        (position, name, expected),
    ).fetchone()
    return moved is not None


class TrackingMoved(Exception):
    """Another runner applied this batch first; ours is rolled back."""


class ProjectionRunner:
    def __init__(
        self,
        app: Application[Any],
        database: Database,
        projections: Sequence[Projection],
        batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.database = database
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self._wake = threading.Event()
        recorder = app.recorder
        assert isinstance(recorder, ApplicationRecorder)
        self._recorder = recorder

    # Schema ------------------------------------------------------------------

    def create_tables(self) -> None:
        with self.database.transaction() as cursor:
            if self.database.dialect == "postgres":
                # Several processes may start at once; DDL under one lock avoids races.
                cursor.execute("SELECT pg_advisory_xact_lock(4242)")
            cursor.execute(TRACKING_DDL)
            for projection in self.projections.values():
                for statement in projection.create_statements(self.database.dialect):
                    cursor.execute(statement)
                cursor.execute(
                    "INSERT INTO projection_tracking (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (projection.name,),
                )

    # Positions ---------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        rows = self.database.query("SELECT name, position FROM projection_tracking")
        found = {row["name"]: int(row["position"]) for row in rows}
        return {name: found.get(name, 0) for name in self.projections}

    def head(self) -> int:
        return self._recorder.max_notification_id() or 0

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every projection has applied `position`; False on timeout."""
        self._wake.set()
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            if min(self.positions().values(), default=position) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.01)

    # Processing --------------------------------------------------------------

    def run_once(self) -> int:
        """Apply at most one batch per group of projections at the same position."""
        groups: dict[int, list[Projection]] = defaultdict(list)
        for name, position in self.positions().items():
            groups[position].append(self.projections[name])
        applied = 0
        for position, projections in sorted(groups.items()):
            notifications = self._recorder.select_notifications(
                start=position + 1, limit=self.batch_size
            )
            if not notifications:
                continue
            try:
                self._apply_batch(position, projections, notifications)
            except TrackingMoved:
                log.debug("another runner applied the batch after %s first", position)
                continue
            applied += len(notifications)
        return applied

    def _apply_batch(
        self, position: int, projections: list[Projection], notifications: Sequence[Notification]
    ) -> None:
        last = notifications[-1].id
        events: dict[int, Any] = {}
        with self.database.transaction() as cursor:
            for projection in projections:
                self._move_tracking(cursor, projection.name, position, last)
            for projection in projections:
                items = []
                for notification in notifications:
                    if notification.topic in projection.topics:
                        if notification.id not in events:
                            events[notification.id] = self.app.mapper.to_domain_event(notification)
                        items.append((events[notification.id], notification.id))
                if items:
                    projection.apply_batch(cursor, items)

    @staticmethod
    def _move_tracking(cursor: Cursor, name: str, expected: int, position: int) -> None:
        if not move_tracking(cursor, name, expected, position):
            raise TrackingMoved(name)

    def catch_up(self, progress: Callable[[int], object] | None = None) -> int:
        """Apply everything recorded so far; returns how many notifications were applied."""
        total = 0
        while True:
            applied = self.run_once()
            if not applied:
                return total
            total += applied
            if progress:
                progress(applied)

    def rebuild(self, names: Sequence[str], progress: Callable[[int], object] | None = None) -> int:
        """Drop and recreate the named read models, reset their tracking, replay the whole log."""
        self.reset(names)
        return self.catch_up(progress)

    def only(self, names: Sequence[str]) -> ProjectionRunner:
        """A runner of some of these projections (to apply them in another process)."""
        return ProjectionRunner(self.app, self.database, [self.projections[n] for n in names],
                                self.batch_size)

    def reset(self, names: Sequence[str]) -> None:
        """Drop and recreate the named read models and set their tracking back to 0.

        Dropping (not just emptying) applies a changed table definition.
        """
        with self.database.transaction() as cursor:
            for name in names:
                projection = self.projections[name]
                for table in projection.tables:
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in projection.create_statements(self.database.dialect):
                    cursor.execute(statement)
                cursor.execute("UPDATE projection_tracking SET position = 0 WHERE name = ?", (name,))

    # Long-running --------------------------------------------------------------

    def nudge(self) -> None:
        """Ask a running loop to poll now rather than at its next interval."""
        self._wake.set()

    def run_forever(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Follow the log until `stop`: woken by each append on PostgreSQL (LISTEN), by
        `nudge()` in this process, or else every `interval` seconds."""
        channel = getattr(self._recorder, "channel_name", None)
        if channel and self.database.dialect == "postgres":
            threading.Thread(target=self.database.listen, args=(channel, self.nudge, stop),
                             name="projections-listen", daemon=True).start()
        backoff = interval
        while not stop.is_set():
            try:
                applied = self.run_once()
                backoff = interval
            except Exception:  # logged with its traceback; the batch is retried, never skipped
                log.exception("projection batch failed; retrying in %.1fs", backoff)
                applied = 0
                backoff = min(backoff * 2, 30.0)
            if not applied:
                self._wake.wait(backoff)
                self._wake.clear()
