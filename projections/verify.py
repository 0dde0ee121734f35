"""Verifying read models: rebuilt from the log into scratch tables, beside the live ones and
at the same position, then compared row by row (`journeys projections verify`).

The scratch tables live in a SQLite file of their own (`decisions/0043`), so the live
tables are only read, while the service runs. The rebuild goes up to the live read model's
position; the live rows are then read in one snapshot, in which its position is read
again, and the rebuild is brought to that position before the two are compared. The live
rows are copied beside the rebuilt ones and compared there, by SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from projections.projection import Projection
from projections.replay import replay
from projections.runner import ProjectionRunner
from storage.database import Cursor, Database, Row
from storage.event_log import EventLog

COPY_CHUNK = 5000
# Columns that hold no fact of the log: a scheduler's lease on due work.
NOT_FROM_THE_LOG = {"due_work": frozenset({"claimed_until"})}


class ResetMeanwhile(Exception):
    """The live read model went back while it was verified (a rebuild ran)."""


@dataclass(frozen=True)
class Difference:
    table: str
    key: dict[str, Any]
    column: str | None  # None: the row is only on one side
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value}" for name, value in self.key.items())
        if self.column is None:
            return f"{self.table} ({key}): only {'in the live table' if self.live else 'rebuilt'}"
        return (f"{self.table} ({key}) {self.column}: live {self.live!r}, "
                f"rebuilt {self.rebuilt!r}")


class LogUpTo:
    """The log as far as `position`: a rebuild stops there."""

    def __init__(self, log_: EventLog, position: int) -> None:
        self._log = log_
        self.position = position

    def head(self) -> int:
        return min(self.position, self._log.head())

    def read(self, start: int, stop: int, topics: Sequence[str], limit: int) -> list[Any]:
        return self._log.read(start, min(stop, self.position), topics, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


def verify(log_: EventLog, live: Database, scratch: Database, projection: Projection,
           progress: Callable[[str, int, int], Callable[[int], object]]) -> list[Difference]:
    """Every difference between `projection`'s live tables and a rebuild of them into
    `scratch`. `progress(what, total, done)` gives the callback a bar is moved by."""
    capped = LogUpTo(log_, _position(live, projection.name))
    runner = ProjectionRunner(capped, scratch, [projection])  # type: ignore[arg-type]
    runner.tracking.create_tables()
    runner.reset([projection.name], indexes=False)
    replay(runner, progress(f"rebuild {projection.name}", capped.head(), 0))
    with live.snapshot() as cursor:
        position = _position(cursor, projection.name)
        if position < capped.position:
            raise ResetMeanwhile(f"the live {projection.name} went back from "
                                 f"{capped.position} to {position} meanwhile")
        capped.position = position
        runner.catch_up()
        for table in projection.tables:
            _copy(cursor, scratch, table, progress)
    differences: list[Difference] = []
    for table in projection.tables:
        differences += _compare(scratch, table)
    return differences


def _position(source: Database | Cursor, name: str) -> int:
    statement = "SELECT position FROM projection_tracking WHERE name = ?"
    row = (source.query_one(statement, (name,)) if isinstance(source, Database)
           else source.execute(statement, (name,)).fetchone())
    return int(row["position"]) if row else 0


def _columns(scratch: Database, table: str) -> tuple[list[str], list[str]]:
    """The table's columns, and its key's, as the rebuild made them."""
    info = scratch.query(f"PRAGMA table_info({table})")
    keys = [row["name"] for row in sorted(info, key=lambda row: row["pk"]) if row["pk"]]
    return [row["name"] for row in info], keys


def _copy(live: Cursor, scratch: Database, table: str,
          progress: Callable[[str, int, int], Callable[[int], object]]) -> None:
    """The live table's rows into `live_<table>` beside the rebuilt one, page by page in
    key order (the live cursor's snapshot holds still meanwhile)."""
    columns, keys = _columns(scratch, table)
    total = int(live.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone()["n"])  # type: ignore[index]
    moved = progress(f"read live {table}", total, 0)
    with scratch.transaction() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS live_{table}")
        cursor.execute(f"CREATE TABLE live_{table} AS SELECT * FROM {table} WHERE 0")
    for rows in _pages(live, table, columns, keys):
        with scratch.transaction() as cursor:
            cursor.insert_many(f"live_{table}", columns,
                               [tuple(row[c] for c in columns) for row in rows])
        moved(len(rows))


def _pages(live: Cursor, table: str, columns: list[str], keys: list[str]) -> Iterator[list[Row]]:
    order = ", ".join(keys)
    after: tuple[Any, ...] | None = None
    while True:
        where = (f"WHERE ({order}) > ({', '.join('?' for _ in keys)}) " if after else "")
        rows = live.execute(f"SELECT {', '.join(columns)} FROM {table} {where}ORDER BY {order} "
                            f"LIMIT {COPY_CHUNK}", after or ()).fetchall()
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][k] for k in keys)


def _compare(scratch: Database, table: str) -> list[Difference]:
    columns, keys = _columns(scratch, table)
    values = [c for c in columns if c not in keys and c not in NOT_FROM_THE_LOG.get(table, ())]
    joined = " AND ".join(f"l.{k} = r.{k}" for k in keys)
    found: list[Difference] = []
    for side, other, live in (("live_" + table, table, True), (table, "live_" + table, False)):
        for row in scratch.query(
                f"SELECT {', '.join('l.' + k for k in keys)} FROM {side} l WHERE NOT EXISTS "
                f"(SELECT 1 FROM {other} r WHERE {joined}) ORDER BY {', '.join(keys)}"):
            found.append(Difference(table, dict(row), None, live, not live))
    if not values:
        return found
    differs = " OR ".join(f"l.{c} IS NOT r.{c}" for c in values)
    picked = ", ".join([*(f"l.{k} AS {k}" for k in keys),
                        *(f"l.{c} AS live_{c}, r.{c} AS rebuilt_{c}" for c in values)])
    for row in scratch.query(f"SELECT {picked} FROM live_{table} l JOIN {table} r ON {joined} "
                             f"WHERE {differs} ORDER BY {', '.join('l.' + k for k in keys)}"):
        key = {k: row[k] for k in keys}
        found += [Difference(table, key, c, row["live_" + c], row["rebuilt_" + c])
                  for c in values if row["live_" + c] != row["rebuilt_" + c]]
    return found
