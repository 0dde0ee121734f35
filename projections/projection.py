"""What a read model is: tables, the events it reads, and how a batch of events changes its rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from projections.database import Cursor, Dialect, Row

Item = tuple[Any, int]  # a domain event and its position in the log
CHUNK = 500


class Projection(ABC):
    """A read model. The runner calls `apply_batch` inside the transaction that moves its
    tracking, with the batch's events for this projection's topics, in log order."""

    name: str
    tables: tuple[str, ...]
    topics: frozenset[str]
    weight = 1  # relative cost of applying the log, to share a rebuild between processes
    # The topic of the event that starts each of the aggregates this projection follows,
    # if a replay may apply their events aggregate by aggregate rather than in log order:
    # what one aggregate's events do to shared rows (counters) commutes with another's
    # (`ProjectionRunner.replay_by_aggregate`, `decisions/0027`).
    replayed_from: str | None = None

    @abstractmethod
    def create_statements(self, dialect: Dialect) -> list[str]:
        """DDL for the projection's tables and indexes (idempotent)."""

    def apply_batch(self, cursor: Cursor, items: Sequence[Item]) -> None:
        """Change the rows for a batch of events. By default, one event at a time."""
        for event, position in items:
            self.apply(cursor, event, position)

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        """Change the rows for one domain event, at log position `position`."""
        raise NotImplementedError


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def select_in(cursor: Cursor, statement: str, values: Iterable[Any]) -> list[Row]:
    """Run `statement`, whose `IN ({marks})` stands for a list of values, over `values` in
    chunks. On PostgreSQL the list is one array parameter (`= ANY(?)`): the statement's
    text is the same for every chunk, so the server prepares it once rather than parsing a
    new text for each length of list."""
    rows: list[Row] = []
    for statement_of_chunk, params in _in_chunks(cursor, statement, values):
        rows += cursor.execute(statement_of_chunk, params).fetchall()
    return rows


def select_tuples_in(cursor: Cursor, statement: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """`select_in`, its rows as tuples (`Cursor.tuples`)."""
    rows: list[tuple[Any, ...]] = []
    for statement_of_chunk, params in _in_chunks(cursor, statement, values):
        rows += cursor.tuples(statement_of_chunk, params)
    return rows


def _in_chunks(cursor: Cursor, statement: str,
               values: Iterable[Any]) -> Iterator[tuple[str, Sequence[Any]]]:
    if cursor.dialect == "postgres":
        statement = statement.replace("IN ({marks})", "= ANY(?)")
        for chunk in chunks(values):
            yield statement, (chunk,)
        return
    for chunk in chunks(values):
        yield statement.format(marks=", ".join("?" for _ in chunk)), chunk


class Fact:
    """One fact of an enrollment's `Advanced` event, read like an event of its own: its
    fields as attributes, `originator_id` the enrollment's id, `kind` its name."""

    kind: str

    def __init__(self, originator_id: str, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)
        self.originator_id = originator_id


def event_name(event: Any) -> str:
    """`Enrolled`, `Registered`, …, or a fact's kind (`StepCompleted`, `Completed`, …)."""
    return event.kind if isinstance(event, Fact) else type(event).__name__


def expand(items: Iterable[Item]) -> Iterator[Item]:
    """The items with every `Advanced` event replaced by its facts, in order, each at the
    event's position."""
    for event, position in items:
        if type(event).__name__ == "Advanced":
            for fields in event.facts:
                yield Fact(event.originator_id, fields), position
        else:
            yield event, position
