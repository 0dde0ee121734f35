"""Receipts: the answer to a request made with an `Idempotency-Key`, kept so a retry gets
the same answer. A command's receipt is written by the event recorder in the transaction
that appends the command's events (`storage.recorders`), so a crash cannot separate
them; an answer that recorded no events (a refusal) is kept on its own.

A request is not looked up before it runs: a retry runs the command again, and its save
meets the first receipt (`ReceiptTaken`: nothing of it is saved), or it is refused and
its refusal meets it (`keep`); either way the first answer is given again.

A receipt is not a domain fact: it is what the API answered, kept for a while and then
forgotten (`forget_before`), so it lives in a table of its own rather than in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.caller import ReceiptTaken
from storage.database import Database

TABLE = "idempotency_receipts"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    "status INTEGER NOT NULL, body TEXT, headers TEXT NOT NULL, created_at TEXT NOT NULL, "
    "PRIMARY KEY (scope, key))",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_by_age ON {TABLE} (created_at)",
)
COLUMNS = ("scope", "key", "fingerprint", "status", "body", "headers", "created_at")


@dataclass(frozen=True)
class Receipt:
    """`scope`: whose key it is (an API key's id, or `anonymous`); `fingerprint`: the
    request's method, path and body, hashed; `body` and `headers`: JSON text."""

    scope: str
    key: str
    fingerprint: str
    status: int
    body: str | None
    headers: str
    created_at: str

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, column) for column in COLUMNS)


def insert_statement(mark: str) -> str:
    """With the database driver's own placeholder: the recorders run it on their cursor."""
    marks = ", ".join(mark for _ in COLUMNS)
    return (f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (scope, key) DO NOTHING RETURNING key")


PLAIN_INSERT = (f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('%s' for _ in COLUMNS)})")  # PostgreSQL's placeholders


def taken(cause: BaseException | None, receipts: Sequence[Receipt]) -> Receipt | None:
    """Which of `receipts` PostgreSQL refused as there already, if its unique violation
    `cause` is the receipts' key (it names the key's values)."""
    diagnostic = getattr(cause, "diag", None)
    if diagnostic is None or diagnostic.constraint_name != f"{TABLE}_pkey":
        return None
    detail = diagnostic.message_detail or ""
    named = [r for r in receipts if f"=({r.scope}, {r.key})" in detail]
    return named[0] if named else (receipts[0] if receipts else None)


def write(cursor: Any, mark: str, receipts: Sequence[Receipt]) -> None:
    """Insert `receipts` with a raw driver cursor inside the caller's transaction;
    ReceiptTaken (which rolls it back) if one of them is there already."""
    statement = insert_statement(mark)
    for receipt in receipts:
        cursor.execute(statement, receipt.row())
        if not cursor.fetchall():
            raise ReceiptTaken(receipt)


def create_table(database: Database) -> None:
    with database.transaction() as cursor:
        for statement in DDL:
            cursor.execute(statement)


def find(database: Database, scope: str, key: str) -> Receipt | None:
    row = database.query_one(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} "
                             "WHERE scope = ? AND key = ?", (scope, key))
    return None if row is None else Receipt(**row)


def keep(database: Database, receipt: Receipt) -> bool:
    """Keep the receipt of an answer that recorded no events; False if one was kept
    first (by a request that ran meanwhile)."""
    with database.transaction() as cursor:
        return bool(cursor.execute(insert_statement("?"), receipt.row()).fetchall())


def forget_before(database: Database, instant: str) -> int:
    """Delete the receipts made before `instant` (ISO text); how many."""
    with database.transaction() as cursor:
        return len(cursor.execute(f"DELETE FROM {TABLE} WHERE created_at < ? RETURNING key",
                                  (instant,)).fetchall())
