"""One small SQL surface over the event store's own connection pool, for SQLite and PostgreSQL.

Read models live in the same database as the events, so a projection writes its rows and its
tracking position in one transaction of the store's own datastore.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, Protocol, overload

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
    if instant is None:
        return None
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@lru_cache(maxsize=512)
def _for_postgres(statement: str) -> str:
    return statement.replace("?", "%s")


class Cursor:
    """A cursor taking `?` placeholders on both databases and returning rows as dicts."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self._raw = raw
        self.dialect = dialect

    def _sql(self, statement: str) -> str:
        return _for_postgres(statement) if self.dialect == "postgres" else statement

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


class Database:
    """The read-model side of the store: transactions on the event store's datastore."""

    def __init__(self, datastore: _Datastore, dialect: Dialect) -> None:
        self._datastore = datastore
        self.dialect = dialect

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        with self._datastore.transaction(commit=commit) as raw:
            yield Cursor(raw, self.dialect)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    def query_one(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        with self.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchone()
