"""The SQL surface every room above storage uses, the same on both databases.

Read models live in the same database as the events, so a projection writes its rows and
its tracking position in one transaction of the event store's own datastore. What differs
between the dialects lives in `storage.postgres` and `storage.sqlite`; this module holds
what they share and the defaults that suit SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

Dialect = Literal["sqlite", "postgres"]


class Unreachable(Exception):
    """The database cannot be used at all (not there, refused, no such role or file); the
    message says why in one line."""
Row = dict[str, Any]
CHUNK = 500  # values per statement where a list of keys is spelled out


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Cursor:
    """A cursor taking `?` placeholders and returning rows as dicts. The bulk writes here go
    row by row; a dialect may do them in fewer round trips."""

    dialect: Dialect = "sqlite"

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def _sql(self, statement: str) -> str:
        return statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        self._raw.execute(self._sql(statement), tuple(params))
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._sql(statement), [tuple(r) for r in rows])

    def fetchone(self) -> Row | None:
        row = self._raw.fetchone()
        return None if row is None else dict(row)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._raw.fetchall()]

    def tuples(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read; its rows as tuples, cheaper than dicts where there are many."""
        self._raw.execute(self._sql(statement), tuple(params))
        return [tuple(row) for row in self._raw.fetchall()]

    def any_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition's right-hand side that matches any of `values`, and its parameters:
        `IN (?, …)` here; a dialect may pass the list as one parameter."""
        return f"IN ({', '.join('?' for _ in values)})", list(values)

    def select_in(self, statement: str, values: Iterable[Any]) -> list[Row]:
        """Run `statement`, whose `{any}` stands for a list of values (`any_of`), over
        `values` in chunks."""
        rows: list[Row] = []
        for chunk in chunks(values):
            condition, params = self.any_of(chunk)
            rows += self.execute(statement.format(any=condition), params).fetchall()
        return rows

    def select_tuples_in(self, statement: str, values: Iterable[Any], after: Sequence[Any] = (),
                         size: int = CHUNK) -> list[tuple[Any, ...]]:
        """`select_in`, its rows as tuples (`tuples`), `size` values at a time; `after` are
        the parameters that follow the list's."""
        rows: list[tuple[Any, ...]] = []
        for chunk in chunks(values, size):
            condition, params = self.any_of(chunk)
            rows += self.tuples(statement.format(any=condition), [*params, *after])
        return rows

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], suffix: str = ""
    ) -> None:
        """INSERT many rows; `suffix` is an `ON CONFLICT …` clause, if any."""
        if rows:
            names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {suffix}", rows)

    def update_many(
        self, table: str, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """UPDATE many rows by key; each row gives the columns' values, then the keys'."""
        self.executemany(
            f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} "
            f"WHERE {' AND '.join(f'{k} = ?' for k in keys)}",
            rows,
        )

    def delete_many(self, table: str, key: str, values: Sequence[Any]) -> None:
        """DELETE rows by key."""
        for chunk in chunks(values):
            condition, params = self.any_of(chunk)
            self.execute(f"DELETE FROM {table} WHERE {key} {condition}", params)

    def tables(self) -> set[str]:
        """The names of the tables there are."""
        return {row["name"] for row in self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}

    def columns(self, table: str) -> set[str]:
        """The names of a table's columns (none if there is no such table)."""
        return {str(row["name"]).lower() for row in self.execute(
            f"SELECT name FROM pragma_table_info('{table}')").fetchall()}

    def announce(self, channel: str, payload: str) -> None:
        """Tell the listeners on `channel`, once this transaction commits. Nothing to tell
        where the database has no notifications (`Database.listen`)."""

    def commit_lazily(self) -> None:
        """This transaction writes what can be derived again (read models): its commit
        need not wait for the disk. Where every commit waits, nothing changes."""


class Database:
    """Transactions on the event store's datastore, and what else the rooms above ask of
    the database. A dialect overrides what it does differently."""

    dialect: Dialect = "sqlite"
    notification_id = "rowid"  # the event table's column of the log's positions
    notifies = False  # whether `listen` hears announcements (`Cursor.announce`)
    cursor_class: type[Cursor] = Cursor

    def __init__(self, datastore: Any) -> None:
        self._datastore = datastore

    @contextmanager
    def transaction(self, *, commit: bool = True, pipeline: bool = False) -> Iterator[Cursor]:
        """A transaction; `commit=False` for reads. `pipeline` is a hint for transactions of
        few rows that a dialect may send without waiting for each statement's result."""
        with self._datastore.transaction(commit=commit) as raw:
            yield self.cursor_class(raw)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor for reads that need no snapshot in common."""
        with self.transaction(commit=False) as cursor:
            yield cursor

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """A read-only transaction whose statements all see one snapshot of the database,
        however long it lasts. SQLite: a transaction's reads do (WAL)."""
        with self.transaction(commit=False) as cursor:
            yield cursor

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.reading() as cursor:
            return cursor.execute(statement, params).fetchall()

    def query_one(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        with self.reading() as cursor:
            return cursor.execute(statement, params).fetchone()

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Held while the schema is made, so processes started together do not race on
        it; a database that serialises its writers needs nothing more."""
        yield

    def listen(
        self,
        channel: str,
        notified: Callable[[str], None],
        done: Callable[[], bool],
        listening: Callable[[], None] = lambda: None,
    ) -> None:
        """Call `notified(payload)` for each announcement on `channel` until `done()`;
        `listening` once listening. A database without notifications returns at once."""

    def analyze_stale(self, tables: Sequence[str]) -> list[str]:
        """Bring stale planner statistics of `tables` up to date; returns the tables
        analyzed. A planner that needs none: nothing to do."""
        return []

    def checkpoint(self) -> None:
        """Fold a write-ahead log back into the database, where one grows unattended."""
