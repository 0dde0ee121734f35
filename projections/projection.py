"""What a read model is: tables, the events it reads, and how a batch of events changes its rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from storage.database import Cursor, Dialect
from storage.event_log import Item


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
