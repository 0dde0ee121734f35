"""A base for aggregates whose ids are prefixed strings rather than UUIDs.

The library's `DomainEvent` insists on UUID originator ids, so the events here are
frozen dataclasses built on the same mutation protocol with `str` ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)


@dataclass(frozen=True)
class StrEvent(CanMutateAggregate[str], metaclass=MetaDomainEvent):
    originator_id: str
    originator_version: int
    timestamp: datetime


@dataclass(frozen=True)
class StrCreated(CanInitAggregate[str], StrEvent):
    originator_topic: str


class StrAggregate(BaseAggregate[str]):
    """Aggregates with string ids (stored with ORIGINATOR_ID_TYPE=text).

    Subclasses annotate `id: str` so that their constructor accepts the id the
    application chose.
    """

    class Event(StrEvent):
        pass

    class Created(Event, StrCreated):
        pass
