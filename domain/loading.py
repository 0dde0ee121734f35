"""The aggregates one decision reads, loaded once and in bulk, and saved together."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application

from domain.aggregate import StrAggregate
from domain.ports import AggregateLoader


class Loaded:
    """What is read through `get` is loaded at most once; what is `add`ed is saved by
    `save`, in one transaction."""

    def __init__(self, app: Application[str], loader: AggregateLoader) -> None:
        self.app = app
        self.loader = loader
        self.loaded: dict[str, StrAggregate | None] = {}
        self.touched: dict[str, StrAggregate] = {}

    def preload(self, aggregate_ids: Iterable[str]) -> None:
        """Load many aggregates in one go."""
        wanted = [i for i in aggregate_ids if i not in self.loaded]
        found = self.loader.load_many(wanted)
        for aggregate_id in wanted:
            self.loaded[aggregate_id] = found.get(aggregate_id)

    def get(self, aggregate_id: str) -> Any:
        """The aggregate, or None if it has no events."""
        if aggregate_id not in self.loaded:
            try:
                self.loaded[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self.loaded[aggregate_id] = None
        return self.loaded[aggregate_id]

    def add(self, aggregate: StrAggregate) -> None:
        self.loaded[aggregate.id] = aggregate
        self.touched[aggregate.id] = aggregate

    def save(self, **kwargs: Any) -> int:
        """Save what was added, and what `kwargs` record with it (`Caller.recorded_with`);
        the log position of the last event (0 if nothing)."""
        if not self.touched and not kwargs:
            return 0
        recordings = self.app.save(*self.touched.values(), **kwargs)
        return max((r.notification.id for r in recordings), default=0)
