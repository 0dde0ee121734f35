"""The read models' bulk writes: many rows by key, on both databases, whichever way they go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from api.context import Services
from storage.database import Database
from storage.postgres import STAGED_UPDATE_MIN, PostgresDatabase


@pytest.fixture
def table(services: Services) -> Database:
    database = services.database
    with database.transaction() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bulk_rows")
        cursor.execute("CREATE TABLE bulk_rows (k TEXT, n INTEGER, v TEXT, w TEXT, "
                       "PRIMARY KEY (k, n))")
        cursor.insert_many("bulk_rows", ("k", "n", "v", "w"),
                           [(f"k{i}", i % 3, "old", "keep") for i in range(5 * STAGED_UPDATE_MIN)])
    return database


def values(database: Database) -> dict[str, tuple[str, str]]:
    return {row["k"]: (row["v"], row["w"])
            for row in database.query("SELECT k, v, w FROM bulk_rows")}


@pytest.mark.parametrize("pipeline", [False, True], ids=["plain", "pipelined"])
@pytest.mark.parametrize("count", [3, STAGED_UPDATE_MIN, 2 * STAGED_UPDATE_MIN])
def test_update_many_changes_exactly_the_rows_given(
    table: Database, count: int, pipeline: bool
) -> None:
    """Also in PostgreSQL's pipeline mode, where the rows cannot go by COPY."""
    with table.transaction(pipeline=pipeline) as cursor:
        cursor.update_many("bulk_rows", ("k", "n"), ("v",),
                           [(f"new{i}", f"k{i}", i % 3) for i in range(count)])
        # A second update in the same transaction sees only its own rows.
        cursor.update_many("bulk_rows", ("k", "n"), ("v",),
                           [(f"again{i}", f"k{i}", i % 3) for i in range(count, 2 * count)])

    found = values(table)
    assert [found[f"k{i}"] for i in range(count)] == [(f"new{i}", "keep") for i in range(count)]
    assert [found[f"k{i}"] for i in range(count, 2 * count)] == \
        [(f"again{i}", "keep") for i in range(count, 2 * count)]
    assert all(found[f"k{i}"] == ("old", "keep") for i in range(2 * count, len(found)))


class _OneConnection:
    """A datastore of one PostgreSQL connection, so every transaction runs on it."""

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self.connection = psycopg.connect(url, autocommit=True, row_factory=dict_row)

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        yield self.connection

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.connection.transaction(force_rollback=not commit):
            yield self.connection.cursor()


def test_an_update_after_a_rolled_back_one_still_lands(
    table: Database, database_url: str
) -> None:
    """PostgreSQL: the staging table made in a transaction that rolled back is gone with it;
    the next update on that connection makes it again."""
    if table.dialect != "postgres":
        pytest.skip("SQLite updates row by row")
    datastore = _OneConnection(database_url)
    database = PostgresDatabase(datastore)
    rows = [(f"x{i}", f"k{i}", i % 3) for i in range(STAGED_UPDATE_MIN)]
    try:
        with pytest.raises(RuntimeError), database.transaction() as cursor:
            cursor.update_many("bulk_rows", ("k", "n"), ("v",), rows)
            raise RuntimeError("the batch fails after its update")
        assert values(database)["k0"] == ("old", "keep")

        with database.transaction() as cursor:  # the same columns: the same staging table
            cursor.update_many("bulk_rows", ("k", "n"), ("v",),
                               [(f"y{i}", f"k{i}", i % 3) for i in range(STAGED_UPDATE_MIN)])
        assert values(database)["k0"] == ("y0", "keep")
    finally:
        datastore.connection.close()


def test_delete_many_deletes_exactly_the_keys_given(table: Database) -> None:
    with table.transaction() as cursor:
        cursor.delete_many("bulk_rows", "k", ["k1", "k2", "nothing"])
    found = values(table)
    assert "k1" not in found and "k2" not in found and "k0" in found
    assert len(found) == 5 * STAGED_UPDATE_MIN - 2


def test_a_pipelined_transaction_reads_its_own_writes_and_copies_nothing(table: Database) -> None:
    """In pipeline mode a read waits for the writes sent before it, and many rows go by
    executemany: COPY would fail there ("COPY cannot be used in pipeline mode")."""
    many = [(f"p{i}", 0, "new", "made") for i in range(2 * STAGED_UPDATE_MIN)]
    with table.transaction(pipeline=True) as cursor:
        cursor.insert_many("bulk_rows", ("k", "n", "v", "w"), many)
        cursor.execute("UPDATE bulk_rows SET v = ? WHERE k = ?", ("changed", "p0"))
        seen = cursor.execute("SELECT count(*) AS n FROM bulk_rows WHERE w = ?",
                              ("made",)).fetchone()
        changed = cursor.execute("SELECT v FROM bulk_rows WHERE k = ?", ("p0",)).fetchone()
    assert seen == {"n": len(many)}
    assert changed == {"v": "changed"}
    found = values(table)
    assert found["p0"] == ("changed", "made")
    assert len(found) == 5 * STAGED_UPDATE_MIN + len(many)


def test_a_pipelined_transaction_that_fails_leaves_nothing(table: Database) -> None:
    """An error raised in the block, or by a statement whose result was never read, rolls
    back every statement sent before it."""
    with pytest.raises(RuntimeError), table.transaction(pipeline=True) as cursor:
        cursor.execute("UPDATE bulk_rows SET v = ? WHERE k = ?", ("lost", "k0"))
        raise RuntimeError("the batch fails after its update")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), \
            table.transaction(pipeline=True) as cursor:
        cursor.execute("UPDATE bulk_rows SET v = ? WHERE k = ?", ("lost", "k1"))
        cursor.execute("INSERT INTO bulk_rows (k, n, v, w) VALUES (?, ?, ?, ?)",
                       ("k2", 2, "twice", "x"))  # k2's key is (k2, 2): already there
        cursor.execute("UPDATE bulk_rows SET v = ? WHERE k = ?", ("lost", "k3"))
    found = values(table)
    assert found["k0"] == found["k1"] == found["k3"] == ("old", "keep")
    # The connection goes back to its pool usable.
    with table.transaction(pipeline=True) as cursor:
        cursor.execute("UPDATE bulk_rows SET v = ? WHERE k = ?", ("kept", "k0"))
    assert values(table)["k0"] == ("kept", "keep")
