"""SQLite: one writer, no notifications; other database files attached for a rebuild's
copies, and the write-ahead log checkpointed by hand."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteDatastore

from storage.database import Cursor, Database, Dialect, Unreachable


def check_file(path: str, *, create: bool) -> None:
    """Unreachable unless the database file can be opened for writing; without `create`,
    unless it exists already (a command that only reads must not leave an empty file)."""
    if not create and not os.path.exists(path):
        raise Unreachable("no such database file")
    if os.path.isdir(path):
        raise Unreachable("it is a directory")
    try:
        sqlite3.connect(f"file:{quote(path)}?mode={'rwc' if create else 'rw'}", uri=True).close()
    except sqlite3.Error as error:
        folder = os.path.dirname(os.path.abspath(path))
        hint = "" if os.path.isdir(folder) else f" (no folder {folder})"
        raise Unreachable(f"{error}{hint}") from None


class SqliteDatabase(Database):
    dialect: Dialect = "sqlite"

    @contextmanager
    def attached(self, path: str, alias: str) -> Iterator[Cursor]:
        """A write transaction (taken at BEGIN) with the database file `path` attached as
        `alias`, detached after the transaction ends."""
        with self._datastore.get_connection(commit=True) as connection:
            raw = connection.cursor()
            raw.execute("ATTACH DATABASE ? AS " + alias, (path,))
            try:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield Cursor(raw)
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                raw.execute("DETACH DATABASE " + alias)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and empty it, once the readers
        have moved past it (waiting for them up to the busy timeout). A log that readers
        keep from being emptied only grows, and every page read looks it up."""
        with self._datastore.get_connection(commit=True) as connection:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")


class _ScratchPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()  # WAL on the first: undone here
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -65536")
        return connection


def scratch_database(path: str) -> SqliteDatabase:
    """A database file written without a rollback journal and without flushes: a SQLite
    rebuild worker's own (`decisions/0019`), copied into the database only when its worker
    has finished and thrown away otherwise, so nothing in it has to survive a crash."""
    datastore = SQLiteDatastore(path)
    datastore.pool = _ScratchPool(db_name=path)
    return SqliteDatabase(datastore)
