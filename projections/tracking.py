"""Where each read model has got in the log: one row per projection in
`projection_tracking`, moved by compare-and-set in the transaction that writes its rows,
and the read models' tables, made and dropped beside their rows."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime

from eventsourcing.persistence import Notification

from projections import keepers
from projections.projection import Projection
from storage.database import Cursor, Database
from storage.event_log import EventLog
from storage.values import iso

log = logging.getLogger(__name__)

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)
FAILURES_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_failures ("
    "projection TEXT NOT NULL, position BIGINT NOT NULL, topic TEXT NOT NULL, "
    "originator_id TEXT NOT NULL, error TEXT NOT NULL, failed_at TEXT NOT NULL, "
    "PRIMARY KEY (projection, position))"
)
PROJECTED_CHANNEL = "journeys_projected"  # each batch's commit is announced there
RESET = "reset"  # announced on PROJECTED_CHANNEL when positions are set back


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


def record_failure(cursor: Cursor, projection: str, notification: Notification, error: str,
                   at: datetime) -> None:
    """An event a read model set aside, and why (`ProjectionRunner._apply_apart`)."""
    cursor.execute(
        "INSERT INTO projection_failures (projection, position, topic, originator_id, error, "
        "failed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (projection, position) DO NOTHING",
        (projection, notification.id, notification.topic, notification.originator_id,
         error[:2000], iso(at)))


def failures(database: Database) -> dict[str, int]:
    """How many events each read model has set aside."""
    rows = database.query("SELECT projection, COUNT(*) AS n FROM projection_failures "
                          "GROUP BY projection")
    return {row["projection"]: int(row["n"]) for row in rows}


def ensure_tracking(cursor: Cursor, name: str) -> None:
    cursor.execute("INSERT INTO projection_tracking (name, position) VALUES (?, 0) "
                   "ON CONFLICT (name) DO NOTHING", (name,))


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


_TABLE = re.compile(r"^\s*CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)\s*$", re.S | re.I)
_CONSTRAINTS = ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "CONSTRAINT")


def declared_columns(statement: str) -> tuple[str, set[str]] | None:
    """The table a CREATE TABLE statement makes, and its columns' names."""
    found = _TABLE.match(statement)
    if not found:
        return None
    parts, depth, current = [], 0, ""
    for char in found.group(2):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    names = {part.split()[0].lower() for part in parts if part.split()
             and part.split()[0].upper() not in _CONSTRAINTS}
    return found.group(1), names


def _outdated(cursor: Cursor, projection: Projection, dialect: str, there: set[str]) -> list[str]:
    """The tables of `projection` that are missing, or lack a column they now have."""
    outdated = []
    for statement in projection.create_statements(dialect):  # type: ignore[arg-type]
        declared = declared_columns(statement)
        if declared is None:
            continue
        table, columns = declared
        if table not in there or not columns <= cursor.columns(table):
            outdated.append(table)
    return outdated


class Tracking:
    """The positions of some projections, and their tables."""

    def __init__(self, database: Database, log_: EventLog, projections: Sequence[Projection]) -> None:
        self.database = database
        self.log = log_
        self.projections = {p.name: p for p in projections}

    def create_tables(self, followers: Sequence[str] = ()) -> None:
        """Make the read models' tables and tracking rows, where they are missing, and the
        tracking rows of `followers` of the log that keep no read model (the trigger
        matcher). A read model that has a table, or a column, it did not have when it was
        applied so far (a new version of Journeys added it) is dropped and replayed from
        the start (`decisions/0029`)."""
        with self.database.transaction() as cursor:  # callers hold Database.schema_lock
            cursor.execute(TRACKING_DDL)
            cursor.execute(FAILURES_DDL)
            cursor.execute(keepers.DDL)
            there = cursor.tables()
            positions = {row["name"]: int(row["position"]) for row in cursor.execute(
                "SELECT name, position FROM projection_tracking").fetchall()}
            for projection in self.projections.values():
                outdated = _outdated(cursor, projection, self.database.dialect, there)
                if outdated and positions.get(projection.name, 0) > 0:
                    log.warning("read model %s has no %s as this version makes it: replaying "
                                "it from the start", projection.name, ", ".join(outdated))
                    self._drop(cursor, projection)
                for statement in projection.create_statements(self.database.dialect):
                    cursor.execute(statement)
                ensure_tracking(cursor, projection.name)
            for name in followers:
                ensure_tracking(cursor, name)

    def positions(self) -> dict[str, int]:
        rows = self.database.query("SELECT name, position FROM projection_tracking")
        found = {row["name"]: int(row["position"]) for row in rows}
        return {name: found.get(name, 0) for name in self.projections}

    def positions_and_head(self) -> tuple[dict[str, int], int]:
        """`positions()` and the log's head, in one statement where both are in one
        database: one round trip, and one snapshot, so the head is at least every position
        it shows. (A SQLite rebuild worker's positions are in a file of its own.)"""
        if self.log.database is not self.database:
            return self.positions(), self.log.head()
        rows = self.database.query(
            f"SELECT name, position, (SELECT max({self.database.notification_id}) "
            f"FROM {self.log.table}) AS head FROM projection_tracking")
        found = {row["name"]: int(row["position"]) for row in rows}
        head = int(rows[0]["head"] or 0) if rows else self.log.head()
        return {name: found.get(name, 0) for name in self.projections}, head

    def reset(self, names: Sequence[str], *, indexes: bool = True) -> None:
        """Drop and recreate the named read models and set their tracking back to 0, and
        announce it. Dropping (not just emptying) applies a changed table definition.
        Without `indexes`, only the tables and their primary keys are made
        (`create_indexes` adds the rest)."""
        with self.database.transaction() as cursor:
            for name in names:
                projection = self.projections[name]
                self._drop(cursor, projection)
                for statement in projection.create_statements(self.database.dialect):
                    if indexes or not _is_index(statement):
                        cursor.execute(statement)
            cursor.announce(PROJECTED_CHANNEL, RESET)

    def create_indexes(self, names: Sequence[str]) -> None:
        """Make the named read models' secondary indexes, if they are missing."""
        with self.database.transaction() as cursor:
            for name in names:
                for statement in self.projections[name].create_statements(self.database.dialect):
                    if _is_index(statement):
                        cursor.execute(statement)

    @staticmethod
    def _drop(cursor: Cursor, projection: Projection) -> None:
        """Its tables, and the events it set aside: replayed, they are tried again."""
        for table in projection.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute("DELETE FROM projection_failures WHERE projection = ?", (projection.name,))
        cursor.execute("UPDATE projection_tracking SET position = 0 WHERE name = ?",
                       (projection.name,))
