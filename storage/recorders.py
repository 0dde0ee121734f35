"""The library's event recorders, extended twice: they write a command's receipts in the
transaction that appends its events (`storage.receipts`), and on PostgreSQL they give up
on a server that has gone away within a deadline, so a request can be answered 503 in
time instead of waiting through the library's ten attempts (`docs/reliability.md`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.caller import ReceiptTaken
from storage import receipts

F = TypeVar("F", bound=Callable[..., Any])
DEADLINE = 2.5  # seconds a call keeps trying a server that refuses or has gone away
PAUSE = 0.2  # seconds between attempts


def within_deadline(method: F) -> F:
    """Retry `method` on a lost or refused connection, as the library does, but for at most
    DEADLINE seconds in all."""
    @wraps(method)
    def attempt(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                return method(*args, **kwargs)
            except (InterfaceError, OperationalError):
                if time.monotonic() + PAUSE > deadline:
                    raise
                time.sleep(PAUSE)

    return attempt  # type: ignore[return-value]


def _unretried(cls: type, name: str) -> Callable[..., Any]:
    method = getattr(cls, name)
    return getattr(method, "__wrapped__", method)  # type: ignore[no-any-return]


class PostgresRecorder(PostgresApplicationRecorder):
    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        """The receipts go by plain INSERT in the pipeline: one that is there already fails
        the transaction at its sync, read back in `insert_events`, without a round trip of
        its own."""
        for receipt in kwargs.get("receipts") or ():
            curs.execute(receipts.PLAIN_INSERT, receipt.row())
        super()._insert_events(curs, stored_events, **kwargs)

    _insert_all = within_deadline(_unretried(PostgresApplicationRecorder, "insert_events"))

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        try:
            inserted: Sequence[int] | None = self._insert_all(stored_events, **kwargs)
        except IntegrityError as error:
            taken = receipts.taken(error.__cause__, kwargs.get("receipts") or ())
            if taken is None:
                raise
            raise ReceiptTaken(taken) from None
        return inserted
    select_events = within_deadline(_unretried(PostgresApplicationRecorder, "select_events"))
    max_notification_id = within_deadline(
        _unretried(PostgresApplicationRecorder, "max_notification_id"))


class SqliteRecorder(SQLiteApplicationRecorder):
    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        receipts.write(c, "?", kwargs.get("receipts") or ())
        return super()._insert_events(c, stored_events, **kwargs)
