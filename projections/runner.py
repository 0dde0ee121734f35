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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, Notification, PersistenceError

from projections.database import Cursor, Database
from projections.event_log import read_notifications
from projections.projection import Item, Projection

log = logging.getLogger(__name__)

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)
# A replay's batches: on SQLite (one writer) fewer, larger transactions are faster; on
# PostgreSQL, with two workers, larger batches measured slower (decisions/0018).
REPLAY_BATCH = {"sqlite": 5000, "postgres": 1000}
# Aggregates per read of a replay aggregate by aggregate (`replay_by_aggregate`).
REPLAY_AGGREGATES = 1000
# How long a loop following the log holds its batches while the scheduler of its process
# is in a burst (`give_way`); after that they share the process again (decisions/0021).
BURST_HOLD = 5.0
# A batch of at most this many notifications is applied in PostgreSQL's pipeline mode: it is
# waited on once per read instead of once per statement, but without COPY (decisions/0023).
PIPELINE_MAX = 50


def move_tracking(cursor: Cursor, names: Sequence[str], expected: int, position: int) -> bool:
    """Compare-and-set of tracking rows, in one statement: False if someone else moved any
    of them from `expected` (the caller then rolls back)."""
    marks = ", ".join("?" for _ in names)
    moved = cursor.execute(
        f"UPDATE projection_tracking SET position = ? WHERE position = ? AND name IN ({marks}) "
        "RETURNING name",
        (position, expected, *names),
    ).fetchall()
    return len(moved) == len(names)


PROJECTED_CHANNEL = "journeys_projected"


def _announce(cursor: Cursor, names: Sequence[str], position: int) -> None:
    """PostgreSQL, in a transaction that moves these projections to `position`: commit it
    without awaiting the flush (a read model is derived: a batch lost with the server's
    last moments is applied again, its tracking row lost with it), and announce it on
    commit, which answers the consistency waits of every process."""
    cursor.execute("SET LOCAL synchronous_commit TO OFF")
    cursor.execute("SELECT pg_notify(?, ?)", (PROJECTED_CHANNEL, f"{position} {','.join(names)}"))
RESET = "reset"  # announced on PROJECTED_CHANNEL when a rebuild sets positions back
STATISTICS_EVERY = 10.0  # seconds between checks for stale planner statistics
STALL_LIMIT = 60.0  # seconds a catch-up waits for other runners before it gives up


class _ProjectedWatch:
    """What this process knows of the positions from the batches committed by any runner,
    in any process: each batch announces its new position and projections on
    `PROJECTED_CHANNEL` (PostgreSQL NOTIFY, delivered after the commit), so a consistency
    wait is answered from memory instead of by a query per batch. A rebuild's reset
    announces itself, and what is known is forgotten; so it is whenever LISTEN is (again)
    put in place, since announcements may have been missed meanwhile. The listening thread
    starts with the first wait and ends after `idle` seconds without one."""

    def __init__(self, database: Database, idle: float = 10.0) -> None:
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
        """Return True when a batch was announced since generation `seen`, False after
        `timeout`."""
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


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


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
        self._statistics_checked = -STATISTICS_EVERY
        self._watch = _ProjectedWatch(database) if database.dialect == "postgres" else None
        # What this process's own loop committed (`run_forever`): a wait in this process is
        # woken by it instead of polling, the way of `journeys serve` on SQLite.
        self._following = 0
        self._progress = threading.Condition()
        self._applied: dict[str, int] = {}
        self._applied_generation = 0
        # The scheduler sharing this process is in a burst since then (`give_way`), and
        # how many consistency waits of this process are waiting meanwhile.
        self.burst_hold = BURST_HOLD
        self._replaying = False
        self._burst_since: float | None = None
        self._waiting = 0
        recorder = app.recorder
        assert isinstance(recorder, ApplicationRecorder)
        self._recorder = recorder

    # Schema ------------------------------------------------------------------

    def create_tables(self) -> None:
        """Make the read models' tables and tracking rows, where they are missing. A read
        model that has a table it did not have when it was applied so far (a new version
        of Journeys added it) is dropped and replayed from the start (`decisions/0029`)."""
        with self.database.transaction() as cursor:  # callers hold Database.schema_lock
            cursor.execute(TRACKING_DDL)
            there = cursor.tables()
            positions = {row["name"]: int(row["position"]) for row in cursor.execute(
                "SELECT name, position FROM projection_tracking").fetchall()}
            for projection in self.projections.values():
                missing = [t for t in projection.tables if t not in there]
                if missing and positions.get(projection.name, 0) > 0:
                    log.warning("read model %s has no %s: replaying it from the start",
                                projection.name, ", ".join(missing))
                    for table in projection.tables:
                        cursor.execute(f"DROP TABLE IF EXISTS {table}")
                    cursor.execute("UPDATE projection_tracking SET position = 0 WHERE name = ?",
                                   (projection.name,))
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

    def positions_and_head(self) -> tuple[dict[str, int], int]:
        """`positions()` and `head()`; on PostgreSQL in one statement (one round trip, one
        snapshot: the head is at least every position it shows)."""
        if self.database.dialect != "postgres":
            return self.positions(), self.head()
        table = self._recorder.events_table_name  # type: ignore[attr-defined]
        rows = self.database.query(
            "SELECT name, position, (SELECT max(notification_id) FROM " + table + ") AS head "
            "FROM projection_tracking")
        found = {row["name"]: int(row["position"]) for row in rows}
        head = int(rows[0]["head"] or 0) if rows else self.head()
        return {name: found.get(name, 0) for name in self.projections}, head

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every projection has applied `position`; False on timeout.

        On PostgreSQL the batches' announcements answer (`_ProjectedWatch`); where this
        process follows the log itself (`run_forever`), its own commits answer. Either way
        the positions are read when nothing has answered for 50 ms, and at the start unless
        this process follows the log or has heard a position of every projection.
        Otherwise (SQLite, and PostgreSQL before LISTEN is in place) they are polled every
        2 to 10 ms."""
        with self._progress:
            self._waiting += 1
            self._progress.notify_all()  # a loop holding its batches for a burst goes on
        try:
            return self._wait_for(position, timeout)
        finally:
            with self._progress:
                self._waiting -= 1

    def _wait_for(self, position: int, timeout: float) -> bool:
        self._wake.set()
        deadline = time.monotonic() + timeout
        watch = self._watch
        if watch:
            watch.start()
        delay = 0.002
        # Read first unless an answer is on its way: this process's loop, nudged above, or
        # announcements of every projection heard (one comes for each commit still to come).
        read = not (self._following or (watch and watch.knows(self.projections)))
        while True:
            seen = watch.generation if watch else 0
            local_seen = self._applied_generation
            if watch and watch.reached(self.projections, position):
                return True
            if self._following and self._applied_reached(position):
                return True
            if read:
                positions = self.positions()
                if watch:
                    watch.learn(positions)
                if min(positions.values(), default=position) >= position:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if watch and watch.listening:
                read = not watch.wait(seen, min(left, 0.05))
            elif self._following:
                read = not self._wait_applied(local_seen, min(left, 0.05))
            else:
                read = True
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.01)

    def _applied_reached(self, position: int) -> bool:
        with self._progress:
            return all(self._applied.get(name, 0) >= position for name in self.projections)

    def _wait_applied(self, seen: int, timeout: float) -> bool:
        """True when this process's loop committed a batch since generation `seen`."""
        with self._progress:
            return self._progress.wait_for(lambda: self._applied_generation != seen, timeout)

    def _committed(self, names: Sequence[str], position: int) -> None:
        with self._progress:
            for name in names:
                self._applied[name] = max(self._applied.get(name, 0), position)
            self._applied_generation += 1
            self._progress.notify_all()

    def _read_applied(self, positions: dict[str, int]) -> None:
        """Take positions read from the tracking table as what is applied: higher ones
        (another runner's batches) answer waits too; a lower one was set back (a rebuild
        elsewhere), and what this process knew of it no longer holds."""
        with self._progress:
            raised = False
            for name, position in positions.items():
                raised = raised or position > self._applied.get(name, 0)
                self._applied[name] = position
            if raised:
                self._applied_generation += 1
                self._progress.notify_all()

    # Processing --------------------------------------------------------------

    def run_once(self) -> int:
        """Apply at most one batch per group of projections at the same position.

        A group reads only its projections' topics, up to the head as it was before the
        read. A batch shorter than `batch_size` has everything of those topics up to that
        head, so the group's tracking moves to the head, past events it does not read;
        events are committed in notification-id order (the store's table lock on
        PostgreSQL, one writer on SQLite), so no lower id can appear behind the head."""
        groups: dict[int, list[Projection]] = defaultdict(list)
        positions, head = self.positions_and_head()
        self._read_applied(positions)
        for name, position in positions.items():
            groups[position].append(self.projections[name])
        applied = 0
        for position, projections in sorted(groups.items()):
            if position >= head:
                continue
            topics = sorted(set().union(*(p.topics for p in projections)))
            notifications = read_notifications(self._recorder, self.database, position + 1,
                                               head, topics, self.batch_size)
            last = notifications[-1].id if len(notifications) == self.batch_size else head
            try:
                self._apply_batch(position, last, projections, notifications)
            except TrackingMoved:
                log.debug("another runner applied the batch after %s first", position)
                continue
            applied += last - position
        return applied

    def _apply_batch(
        self,
        position: int,
        last: int,
        projections: list[Projection],
        notifications: Sequence[Notification],
    ) -> None:
        events: dict[int, Any] = {}
        with self.database.transaction(pipeline=len(notifications) <= PIPELINE_MAX) as cursor:
            names = [projection.name for projection in projections]
            if not move_tracking(cursor, names, position, last):
                raise TrackingMoved(", ".join(names))
            if self.database.dialect == "postgres":
                _announce(cursor, names, last)
            for projection in projections:
                items = []
                for notification in notifications:
                    if notification.topic in projection.topics:
                        if notification.id not in events:
                            events[notification.id] = self.app.mapper.to_domain_event(notification)
                        items.append((events[notification.id], notification.id))
                if items:
                    projection.apply_batch(cursor, items)
        self._committed(names, last)

    def keep_statistics(self) -> list[str]:
        """At most every STATISTICS_EVERY seconds: ANALYZE the event table and these read
        models' tables where their statistics went stale (`Database.analyze_stale`)."""
        now = time.monotonic()
        if now - self._statistics_checked < STATISTICS_EVERY:
            return []
        self._statistics_checked = now
        tables = [self._recorder.events_table_name]  # type: ignore[attr-defined]
        for projection in self.projections.values():
            tables += projection.tables
        try:
            analyzed = self.database.analyze_stale(tables)
        except PersistenceError:  # statistics only make plans better; never stop work for them
            log.exception("could not bring planner statistics up to date")
            return []
        if analyzed:
            log.info("analyzed %s", ", ".join(analyzed))
        return analyzed

    def catch_up(self, progress: Callable[[int], object] | None = None) -> int:
        """Apply everything recorded so far; returns how many notifications this runner
        applied. Returns only when every projection has reached the head of the log as it
        was at the call, also when another runner applied some of the batches meanwhile."""
        target = self.head()
        self.keep_statistics()  # the replay by aggregate looks its events up by key
        total = self.replay_by_aggregate() if self._replaying else 0
        if total and progress:
            progress(total)
        seen: dict[str, int] = {}
        moved_at = time.monotonic()
        while True:
            self.keep_statistics()
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
            # nobody has moved any position for a minute.
            now = time.monotonic()
            if positions != seen:
                seen, moved_at = positions, now
            elif now - moved_at > STALL_LIMIT:
                raise RuntimeError(f"projections stopped at {positions} below the head "
                                   f"{target} for {STALL_LIMIT:.0f}s")
            time.sleep(0.005)

    def rebuild(self, names: Sequence[str], progress: Callable[[int], object] | None = None) -> int:
        """Drop and recreate the named read models, reset their tracking, replay the whole log.

        Secondary indexes are made after the replay (one sort each, instead of an index
        update per row written); an interrupted rebuild's indexes are made by the next
        process that starts (`create_tables`)."""
        self.reset(names, indexes=False)
        with self.replaying():
            applied = self.catch_up(progress)
        self.create_indexes(names)
        return applied

    @contextmanager
    def replaying(self) -> Iterator[None]:
        """The batches of a replay from the start of the log (`decisions/0018`): at least
        `REPLAY_BATCH`; and on PostgreSQL, projections that allow it are replayed by
        aggregate first (`replay_by_aggregate`, `decisions/0027`)."""
        batch_size = self.batch_size
        self.batch_size = max(batch_size, REPLAY_BATCH[self.database.dialect])
        self._replaying = True
        try:
            yield
        finally:
            self.batch_size = batch_size
            self._replaying = False

    def replay_by_aggregate(self) -> int:
        """PostgreSQL, a runner whose projections are all at position 0 and all allow it
        (`Projection.replayed_from`, the same topic): apply the log up to its head
        aggregate by aggregate, each aggregate's events together, in one transaction that
        moves their tracking from 0 to that head first; returns the head (0 if nothing was
        done). Each aggregate's rows are then written once, by COPY, instead of written,
        read back and updated batch after batch as its events come in log order, and an
        aggregate that ended leaves no due work to write and delete (`decisions/0027`).
        The aggregates are found by their first events, in log order; their events are
        read a thousand aggregates at a time, by the primary key, up to the same head. The
        catch-up that follows applies what came after."""
        projections = list(self.projections.values())
        starts_with = {projection.replayed_from for projection in projections}
        if self.database.dialect != "postgres" or len(starts_with) != 1 or None in starts_with:
            return 0
        first_topic = projections[0].replayed_from
        assert first_topic is not None
        names = [projection.name for projection in projections]
        positions, head = self.positions_and_head()
        if any(positions[name] != 0 for name in names) or head == 0:
            return 0
        table = self._recorder.events_table_name  # type: ignore[attr-defined]
        topics = sorted(set().union(*(projection.topics for projection in projections)))
        with self.database.transaction() as cursor:
            if not move_tracking(cursor, names, 0, head):
                return 0  # another runner is applying them
            _announce(cursor, names, head)
            chunks = self._aggregate_chunks(table, head, first_topic, topics)
            for items, topics_of in chunks:
                for projection in projections:
                    projection.apply_batch(cursor, [item for item, topic in zip(items, topics_of, strict=True)
                                                    if topic in projection.topics])
        self._committed(names, head)
        return head

    def _aggregate_chunks(
        self, table: str, head: int, first_topic: str, topics: list[str]
    ) -> Iterator[tuple[list[Item], list[str]]]:
        """The events of `topics` up to `head` of a thousand aggregates at a time, found by
        their `first_topic` events in log order; each chunk decoded, with its topics. Each
        chunk is read by a thread while the one before it is applied: the reads wait on
        the server for their index look-ups, the writes on it for their COPY."""
        to_domain_event = self.app.mapper.to_domain_event

        def read(after: int) -> tuple[int, list[Item], list[str]]:
            with self.database.reading() as log:
                starts = log.tuples(
                    f"SELECT notification_id, originator_id FROM {table} "
                    "WHERE notification_id > ? AND notification_id <= ? AND topic = ? "
                    "ORDER BY notification_id LIMIT ?",
                    (after, head, first_topic, REPLAY_AGGREGATES))
                if not starts:
                    return 0, [], []
                rows = log.tuples(
                    "SELECT notification_id, originator_id, originator_version, topic, "
                    f"state FROM {table} WHERE originator_id = ANY(?) "
                    "AND notification_id <= ? AND topic = ANY(?) "
                    "ORDER BY originator_id, originator_version",
                    ([row[1] for row in starts], head, topics))
            items = [(to_domain_event(Notification(
                id=row[0], originator_id=row[1], originator_version=row[2], topic=row[3],
                state=row[4])), row[0]) for row in rows]
            return starts[-1][0], items, [row[3] for row in rows]

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-read") as reader:
            ahead = reader.submit(read, 0)
            while True:
                after, items, topics_of = ahead.result()
                if not after:
                    return
                ahead = reader.submit(read, after)
                yield items, topics_of

    def adopt(self, path: str, names: Sequence[str]) -> bool:
        """SQLite: copy the named read models and their tracking, made by another runner in
        the database file `path` (a rebuild worker's), into this database, in one
        transaction. Only while their tracking here is still 0, i.e. no runner here has
        applied a batch of them since their reset (then it is replaying them itself, and
        nothing is copied: False)."""
        with self.database.attached(path, "made") as cursor:
            marks = ", ".join("?" for _ in names)
            moved = cursor.execute(
                f"SELECT name FROM projection_tracking WHERE name IN ({marks}) AND position <> 0",
                list(names)).fetchall()
            if moved:
                return False
            for name in names:
                for table in self.projections[name].tables:
                    columns = [[row["name"] for row in cursor.execute(
                        f"PRAGMA {schema}.table_info({table})").fetchall()]
                        for schema in ("main", "made")]
                    if columns[0] == columns[1]:
                        # SQLite copies records whole into an empty table of the same
                        # definition (its transfer optimisation) only for `SELECT *`.
                        cursor.execute(f"INSERT INTO main.{table} SELECT * FROM made.{table}")
                    else:
                        listed = ", ".join(columns[0])
                        cursor.execute(f"INSERT INTO main.{table} ({listed}) "
                                       f"SELECT {listed} FROM made.{table}")
                cursor.execute(
                    "UPDATE main.projection_tracking SET position = (SELECT position FROM "
                    "made.projection_tracking WHERE name = ?) WHERE name = ?", (name, name))
        return True

    def only(self, names: Sequence[str]) -> ProjectionRunner:
        """A runner of some of these projections (to apply them in another process)."""
        return ProjectionRunner(self.app, self.database, [self.projections[n] for n in names],
                                self.batch_size)

    def reset(self, names: Sequence[str], *, indexes: bool = True) -> None:
        """Drop and recreate the named read models and set their tracking back to 0.

        Dropping (not just emptying) applies a changed table definition. Without `indexes`,
        only the tables and their primary keys are made (`create_indexes` adds the rest).
        """
        with self.database.transaction() as cursor:
            for name in names:
                projection = self.projections[name]
                for table in projection.tables:
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in projection.create_statements(self.database.dialect):
                    if indexes or not _is_index(statement):
                        cursor.execute(statement)
                cursor.execute("UPDATE projection_tracking SET position = 0 WHERE name = ?", (name,))
            if self.database.dialect == "postgres":  # the watches forget what they knew
                cursor.execute("SELECT pg_notify(?, ?)", (PROJECTED_CHANNEL, RESET))
        self._read_applied(dict.fromkeys(names, 0))

    def create_indexes(self, names: Sequence[str]) -> None:
        """Make the named read models' secondary indexes, if they are missing."""
        with self.database.transaction() as cursor:
            for name in names:
                for statement in self.projections[name].create_statements(self.database.dialect):
                    if _is_index(statement):
                        cursor.execute(statement)

    # Long-running --------------------------------------------------------------

    def nudge(self) -> None:
        """Ask a running loop to poll now rather than at its next interval."""
        self._wake.set()

    def give_way(self, backlog: bool) -> None:
        """The scheduler of this process says whether its rounds take whole batches.

        While they do (a backlog), this process's loop (`run_forever`) holds its batches,
        for at most `burst_hold` seconds from the burst's start, or until a consistency
        wait of this process waits for it: the scheduler and the loop share one
        interpreter lock, so a burst of due timers fires faster alone, and the loop then
        applies what it fired in fewer, larger batches (decisions/0021)."""
        with self._progress:
            if backlog and self._burst_since is None:
                self._burst_since = time.monotonic()
            elif not backlog and self._burst_since is not None:
                self._burst_since = None
                self._progress.notify_all()

    def _hold_for_burst(self, stop: threading.Event) -> None:
        with self._progress:
            while self._burst_since is not None and not self._waiting and not stop.is_set():
                left = self._burst_since + self.burst_hold - time.monotonic()
                if left <= 0:
                    return
                self._progress.wait(min(left, 0.5))  # 0.5: `stop` is seen soon enough

    def run_forever(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Follow the log until `stop`: woken by each append on PostgreSQL (LISTEN), by
        `nudge()` in this process, or else every `interval` seconds."""
        channel = getattr(self._recorder, "channel_name", None)
        if channel and self.database.dialect == "postgres":
            threading.Thread(target=self.database.listen,
                             args=(channel, lambda _payload: self.nudge(), stop.is_set),
                             name="projections-listen", daemon=True).start()
        with self._progress:
            self._following += 1
        try:
            self._follow(stop, interval)
        finally:
            with self._progress:
                self._following -= 1

    def _follow(self, stop: threading.Event, interval: float) -> None:
        backoff = interval
        while not stop.is_set():
            self._hold_for_burst(stop)
            try:
                self.keep_statistics()
                applied = self.run_once()
                backoff = interval
            except Exception:  # logged with its traceback; the batch is retried, never skipped
                log.exception("projection batch failed; retrying in %.1fs", backoff)
                applied = 0
                backoff = min(backoff * 2, 30.0)
            if not applied:
                self._wake.wait(backoff)
                self._wake.clear()
