"""One small SQL surface over the event store's own connection pool, for SQLite and PostgreSQL.

Read models live in the same database as the events, so a projection writes its rows and its
tracking position in one transaction of the store's own datastore.
"""

from __future__ import annotations

import json
import time
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, Protocol, overload

import orjson

from domain.calendar import api_instant

Dialect = Literal["sqlite", "postgres"]
Row = dict[str, Any]


class _Datastore(Protocol):
    def transaction(self, *, commit: bool) -> Any: ...


@overload
def iso(instant: datetime) -> str: ...


@overload
def iso(instant: None) -> None: ...


def iso(instant: datetime | None) -> str | None:
    """UTC ISO-8601 with millisecond precision and a Z: fixed width, so it sorts as text."""
    return None if instant is None else api_instant(instant)


def to_json(value: Any) -> str:
    """Compact JSON with sorted keys, by orjson (a sixth of the time of `json.dumps`, which
    was a tenth of a rebuild); what orjson refuses (integers beyond 64 bits, keys that are
    not strings) by the standard library, in the same compact form."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def from_json(text: str | None) -> Any:
    """By the standard library: orjson reads integers beyond 64 bits as floats."""
    return None if text is None else json.loads(text)


def binary_arrays() -> None:
    """PostgreSQL: send Python lists as binary arrays (psycopg's default for a list is
    text), in every connection made after the call. The event store sends each append's
    events as one array of composite records; as text, psycopg quotes and escapes every
    record and its state's hex twice, in Python: 30 ms per 1,000 events against 3 in
    binary, a fifth of the engine's CPU (`decisions/0024`)."""
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(list, ListBinaryDumper)


STAGED_UPDATE_MIN = 50  # rows; fewer go by executemany (staging costs two more statements)
# PostgreSQL connection -> the staging tables made in its session (Cursor._stage)
_STAGES: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=512)
def _for_postgres(statement: str) -> str:
    return statement.replace("?", "%s")


class Cursor:
    """A cursor taking `?` placeholders on both databases and returning rows as dicts.

    `pipelined`: PostgreSQL's pipeline mode (`Database.transaction`), in which statements
    are sent without waiting for their results and COPY is not possible; many rows then go
    by executemany, which psycopg pipelines too."""

    def __init__(self, raw: Any, dialect: Dialect, *, pipelined: bool = False) -> None:
        self._raw = raw
        self.dialect = dialect
        self._copies = dialect == "postgres" and not pipelined

    def _sql(self, statement: str) -> str:
        return _for_postgres(statement) if self.dialect == "postgres" else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        self._raw.execute(self._sql(statement), tuple(params))
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._sql(statement), [tuple(r) for r in rows])

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], suffix: str = ""
    ) -> None:
        """INSERT many rows: COPY on PostgreSQL (several times faster than row by row) unless
        `suffix` (ON CONFLICT ...) is needed; executemany otherwise."""
        if not rows:
            return
        names = ", ".join(columns)
        if self._copies and not suffix:
            with self._raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {suffix}", rows)

    def update_many(
        self,
        table: str,
        keys: Sequence[str],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """UPDATE many rows by key; each row gives the columns' values, then the keys'.

        On PostgreSQL, from STAGED_UPDATE_MIN rows on, the rows are copied into a staging
        table (`_stage`) and applied by one `UPDATE … FROM`: psycopg's executemany costs
        about 11 µs of client CPU a row, COPY about 2, and the server's side is no slower."""
        if self._copies and len(rows) >= STAGED_UPDATE_MIN:
            stage = self._stage(table, [*columns, *keys], rows)
            self._raw.execute(
                f"UPDATE {table} AS t SET {', '.join(f'{c} = s.{c}' for c in columns)} "
                f"FROM {stage} AS s WHERE {' AND '.join(f't.{k} = s.{k}' for k in keys)}")
            self._raw.execute(f"DELETE FROM {stage}")  # for another update in this transaction
            return
        self.executemany(
            f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} "
            f"WHERE {' AND '.join(f'{k} = ?' for k in keys)}",
            rows,
        )

    def _stage(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        """COPY `rows` (values of `names`) into this session's staging table for `table` and
        those columns, and return its name. It is a temporary table made once per connection
        (`ON COMMIT DELETE ROWS`: emptied in place at commit, no catalog change), named
        after the columns, so a changed table definition gets its own."""
        listed = ", ".join(names)
        stage = f"stage_{table}_{zlib.crc32(listed.encode()):08x}"
        made = _STAGES.setdefault(self._raw.connection, set())
        if stage not in made:
            self._raw.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
                              f"ON COMMIT DELETE ROWS AS SELECT {listed} FROM {table} WITH NO DATA")
            made.add(stage)
        with self._raw.copy(f"COPY {stage} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return stage

    def delete_many(self, table: str, key: str, values: Sequence[Any]) -> None:
        """DELETE rows by key: one statement with an array on PostgreSQL."""
        if self.dialect == "postgres":
            if values:
                self.execute(f"DELETE FROM {table} WHERE {key} = ANY(?)", (list(values),))
            return
        self.executemany(f"DELETE FROM {table} WHERE {key} = ?", [(v,) for v in values])

    def tables(self) -> set[str]:
        """The names of the tables there are (in the current schema, on PostgreSQL)."""
        if self.dialect == "postgres":
            statement = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        else:
            statement = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {row["name"] for row in self.execute(statement).fetchall()}

    def tuples(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read; its rows as tuples, cheaper than dicts where there are many. On
        PostgreSQL the server sends them in binary: a bytea as it is, not as text twice its
        size that both sides encode and decode (half the time of reading the log)."""
        if self.dialect != "postgres":
            self._raw.execute(statement, tuple(params))
            return [tuple(row) for row in self._raw.fetchall()]
        from psycopg.rows import tuple_row

        factory = self._raw.row_factory
        self._raw.row_factory = tuple_row
        try:
            self._raw.execute(_for_postgres(statement), tuple(params), binary=True)
            rows: list[tuple[Any, ...]] = self._raw.fetchall()
            return rows
        finally:
            self._raw.row_factory = factory

    def fetchone(self) -> Row | None:
        row = self._raw.fetchone()
        return None if row is None else dict(row)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._raw.fetchall()]


class Database:
    """The read-model side of the store: transactions on the event store's datastore."""

    def __init__(self, datastore: _Datastore, dialect: Dialect) -> None:
        self._datastore = datastore
        self.dialect = dialect

    @contextmanager
    def transaction(self, *, commit: bool = True, pipeline: bool = False) -> Iterator[Cursor]:
        """A transaction; `commit=False` for reads. On PostgreSQL a read ends with COMMIT
        as well: psycopg forgets every prepared statement of the connection on ROLLBACK
        (and sends DEALLOCATE ALL), so the next statements would be parsed and planned
        again. A read-only transaction commits without writing anything.

        `pipeline` (PostgreSQL; ignored on SQLite): the transaction runs in pipeline mode,
        BEGIN and COMMIT included: a statement whose result is not read costs no round
        trip of its own, so a transaction of a few reads and many writes waits about once
        per read instead of once per statement (`decisions/0023`). Without COPY, it suits
        transactions of few rows."""
        if self.dialect == "postgres":
            commit = True
            if pipeline:
                connections = self._datastore.get_connection()  # type: ignore[attr-defined]
                with connections as connection, connection.pipeline(), \
                        connection.transaction(), connection.cursor() as raw:
                    yield Cursor(raw, self.dialect, pipelined=True)
                return
        with self._datastore.transaction(commit=commit) as raw:
            try:
                yield Cursor(raw, self.dialect)
            except BaseException:  # staging tables made in it were rolled back with it
                if self.dialect == "postgres":
                    _STAGES.pop(raw.connection, None)
                raise

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor for reads that need no snapshot in common: on PostgreSQL each statement
        runs outside any transaction block (the pool's connections are in autocommit), which
        saves the BEGIN and COMMIT round trips."""
        if self.dialect != "postgres":
            with self.transaction(commit=False) as cursor:
                yield cursor
            return
        connections = self._datastore.get_connection()  # type: ignore[attr-defined]
        with connections as connection, connection.cursor() as raw:
            yield Cursor(raw, self.dialect)

    @contextmanager
    def attached(self, path: str, alias: str) -> Iterator[Cursor]:
        """SQLite: a write transaction (taken at BEGIN) with the database file `path`
        attached as `alias`, detached after the transaction ends."""
        if self.dialect != "sqlite":
            raise NotImplementedError("attaching a database file is SQLite's")
        with self._datastore.get_connection(commit=True) as connection:  # type: ignore[attr-defined]
            raw = connection.cursor()
            raw.execute("ATTACH DATABASE ? AS " + alias, (path,))
            try:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield Cursor(raw, self.dialect)
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                raw.execute("DETACH DATABASE " + alias)

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file and empty it, once the
        readers have moved past it (waiting for them up to the busy timeout). A log that
        readers keep from being emptied only grows, and every page read looks it up.
        PostgreSQL checkpoints by itself."""
        if self.dialect != "sqlite":
            return
        with self._datastore.get_connection(commit=True) as connection:  # type: ignore[attr-defined]
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Hold PostgreSQL's advisory schema lock (on a connection of its own) while the
        event store's and the read models' DDL run: processes started together otherwise
        race on the library's `CREATE OR REPLACE FUNCTION` ("tuple concurrently updated").
        SQLite serialises its writers already."""
        if self.dialect != "postgres":
            yield
            return
        with self._datastore.get_connection() as connection:  # type: ignore[attr-defined]
            connection.execute("SELECT pg_advisory_lock(4244)")
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(4244)")

    def listen(
        self,
        channel: str,
        notified: Callable[[str], None],
        done: Callable[[], bool],
        listening: Callable[[], None] = lambda: None,
    ) -> None:
        """Call `notified(payload)` whenever PostgreSQL delivers a NOTIFY on `channel`, until `done()`
        (checked at least every half second); `listening` is called once LISTEN is in place.
        SQLite has no notifications: returns at once."""
        if self.dialect != "postgres":
            return
        import psycopg
        from psycopg import sql

        pool = self._datastore.pool  # type: ignore[attr-defined]
        while not done():
            try:
                with psycopg.connect(pool.conninfo, autocommit=True, **{
                    k: v for k, v in pool.kwargs.items() if k != "row_factory"
                }) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    listening()
                    while not done():
                        for notify in connection.notifies(timeout=0.5, stop_after=1):
                            notified(notify.payload)
            except psycopg.OperationalError:
                time.sleep(1.0)  # the server went away: listen again once it is back

    def analyze_stale(self, tables: Sequence[str]) -> list[str]:
        """ANALYZE those of `tables` whose planner statistics are stale by autovacuum's own
        rule (more than 50 + 10% of their rows changed since the last ANALYZE); returns them.

        PostgreSQL's autovacuum does this when it is on; where it is off, a table filled
        since it was made has no statistics at all, and the planner scans millions of events
        to load 500 aggregates. Each table is analyzed in its own short transaction, by one
        process at a time (an advisory lock). SQLite: nothing to do."""
        if self.dialect != "postgres" or not tables:
            return []
        stale = [row["relname"] for row in self.query(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() AND s.relname = ANY(?) "
            "AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)", (list(tables),))]
        analyzed = []
        for table in stale:
            with self.transaction() as cursor:
                got = cursor.execute("SELECT pg_try_advisory_xact_lock(4243, hashtext(?)) AS got",
                                     (table,)).fetchone()
                if got and got["got"]:
                    cursor.execute(f'ANALYZE "{table}"')
                    analyzed.append(table)
        return analyzed

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.reading() as cursor:
            return cursor.execute(statement, params).fetchall()

    def query_one(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        with self.reading() as cursor:
            return cursor.execute(statement, params).fetchone()
