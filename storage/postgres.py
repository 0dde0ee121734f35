"""PostgreSQL: lists as arrays, COPY and staging tables for bulk writes, pipelined small
transactions, LISTEN/NOTIFY, advisory locks and planner statistics."""

from __future__ import annotations

import time
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg.types.array import ListBinaryDumper

from storage.database import Cursor, Database, Dialect, Unreachable

STAGED_UPDATE_MIN = 50  # rows; fewer go by executemany (staging costs two more statements)
SCHEMA_LOCK = 4244  # advisory lock keys
ANALYZE_LOCK = 4243
# PostgreSQL connection -> the staging tables made in its session (PostgresCursor._stage)
_STAGES: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def send_lists_as_binary_arrays() -> None:
    """Send Python lists as binary arrays (psycopg's default for a list is text), in every
    connection made after the call: the event store sends each append's events as one
    array of records, which as text psycopg quotes and escapes twice (`decisions/0024`)."""
    psycopg.adapters.register_dumper(list, ListBinaryDumper)


def check_connection(host: str, port: int, user: str, password: str, dbname: str,
                     timeout: float = 5.0) -> None:
    """Connect once, to say plainly why the server cannot be used (the pool would only
    say it got no connection): Unreachable with the server's first line."""
    try:
        psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname,
                        connect_timeout=max(1, round(timeout))).close()
    except psycopg.Error as error:
        first = next((line for line in str(error).splitlines() if line.strip()),
                     type(error).__name__)
        cause = first.rsplit("failed:", 1)[-1].strip().removeprefix("FATAL:").strip()
        raise Unreachable(cause or first) from None


@lru_cache(maxsize=512)
def _placeholders(statement: str) -> str:
    return statement.replace("?", "%s")


class PostgresCursor(Cursor):
    """`pipelined`: the transaction runs in pipeline mode, in which COPY is not possible;
    many rows then go by executemany, which psycopg pipelines too."""

    dialect: Dialect = "postgres"

    def __init__(self, raw: Any, *, pipelined: bool = False) -> None:
        super().__init__(raw)
        self._copies = not pipelined

    def _sql(self, statement: str) -> str:
        return _placeholders(statement)

    def tuples(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows come in binary: a bytea as it is, not as text twice its size that both
        sides encode and decode (`decisions/0026`)."""
        factory = self._raw.row_factory
        self._raw.row_factory = tuple_row
        try:
            self._raw.execute(self._sql(statement), tuple(params), binary=True)
            rows: list[tuple[Any, ...]] = self._raw.fetchall()
            return rows
        finally:
            self._raw.row_factory = factory

    def any_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """One array parameter: the statement's text is the same for every length of list,
        so the server prepares it once."""
        return "= ANY(?)", [list(values)]

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], suffix: str = ""
    ) -> None:
        """By COPY, unless an ON CONFLICT `suffix` is needed or the transaction is pipelined."""
        if not (self._copies and rows and not suffix):
            super().insert_many(table, columns, rows, suffix)
            return
        with self._raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def update_many(
        self, table: str, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """From STAGED_UPDATE_MIN rows on, the rows are copied into a staging table and
        applied by one `UPDATE … FROM` (`decisions/0017`)."""
        if not (self._copies and len(rows) >= STAGED_UPDATE_MIN):
            super().update_many(table, keys, columns, rows)
            return
        stage = self._stage(table, [*columns, *keys], rows)
        self._raw.execute(
            f"UPDATE {table} AS t SET {', '.join(f'{c} = s.{c}' for c in columns)} "
            f"FROM {stage} AS s WHERE {' AND '.join(f't.{k} = s.{k}' for k in keys)}")
        self._raw.execute(f"DELETE FROM {stage}")  # for another update in this transaction

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
        if values:
            self.execute(f"DELETE FROM {table} WHERE {key} = ANY(?)", (list(values),))

    def tables(self) -> set[str]:
        return {row["name"] for row in self.execute(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()}

    def columns(self, table: str) -> set[str]:
        return {str(row["name"]).lower() for row in self.execute(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?", (table,)).fetchall()}

    def announce(self, channel: str, payload: str) -> None:
        self.execute("SELECT pg_notify(?, ?)", (channel, payload))

    def commit_lazily(self) -> None:
        """A batch lost with the server's last moments is applied again, its tracking row
        lost with it."""
        self.execute("SET LOCAL synchronous_commit TO OFF")


class PostgresDatabase(Database):
    dialect: Dialect = "postgres"
    notification_id = "notification_id"
    notifies = True

    @contextmanager
    def transaction(self, *, commit: bool = True, pipeline: bool = False) -> Iterator[Cursor]:
        """A read ends with COMMIT as well: psycopg forgets every prepared statement of the
        connection on ROLLBACK (and sends DEALLOCATE ALL). With `pipeline`, the transaction
        runs in pipeline mode, BEGIN and COMMIT included: a statement whose result is not
        read costs no round trip of its own (`decisions/0023`)."""
        if pipeline:
            with self._datastore.get_connection() as connection, connection.pipeline(), \
                    connection.transaction(), connection.cursor() as raw:
                yield PostgresCursor(raw, pipelined=True)
            return
        with self._datastore.transaction(commit=True) as raw:
            try:
                yield PostgresCursor(raw)
            except BaseException:  # staging tables made in it were rolled back with it
                _STAGES.pop(raw.connection, None)
                raise

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """Each statement runs outside any transaction block (the pool's connections are in
        autocommit), which saves the BEGIN and COMMIT round trips."""
        with self._datastore.get_connection() as connection, connection.cursor() as raw:
            yield PostgresCursor(raw)

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        with self._datastore.transaction(commit=True) as raw:
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresCursor(raw)

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Processes started together otherwise race on the library's `CREATE OR REPLACE
        FUNCTION` ("tuple concurrently updated")."""
        with self._datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    def listen(
        self,
        channel: str,
        notified: Callable[[str], None],
        done: Callable[[], bool],
        listening: Callable[[], None] = lambda: None,
    ) -> None:
        """On a connection of its own, checking `done()` at least every half second; when
        the server goes away, listens again once it is back."""
        pool = self._datastore.pool
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
                time.sleep(1.0)

    def analyze_stale(self, tables: Sequence[str]) -> list[str]:
        """ANALYZE those of `tables` changed by more than 50 + 10% of their rows since their
        last ANALYZE (autovacuum's own rule, for a server where it is off:
        `decisions/0013`), each in its own short transaction, one process at a time."""
        if not tables:
            return []
        stale = [row["relname"] for row in self.query(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() AND s.relname = ANY(?) "
            "AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)", (list(tables),))]
        analyzed = []
        for table in stale:
            with self.transaction() as cursor:
                got = cursor.execute("SELECT pg_try_advisory_xact_lock(?, hashtext(?)) AS got",
                                     (ANALYZE_LOCK, table)).fetchone()
                if got and got["got"]:
                    cursor.execute(f'ANALYZE "{table}"')
                    analyzed.append(table)
        return analyzed
