"""Loading many aggregates from the event log in one query (the library loads one at a time)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from projections.database import Database
from projections.projection import select_in


class AggregateLoader:
    def __init__(self, app: Application[Any], database: Database) -> None:
        self.app = app
        self.database = database
        self.table: str = app.recorder.events_table_name  # type: ignore[attr-defined]

    def load_many(self, aggregate_ids: Iterable[str]) -> dict[str, Any]:
        """The current state of each aggregate found; ids with no events are left out."""
        ids = set(aggregate_ids)
        if not ids:
            return {}
        # Each aggregate's events come from one statement (its id is in one chunk); an
        # aggregate read stale is refused at its save by the version it was read at.
        with self.database.reading() as cursor:
            rows = select_in(
                cursor,
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{self.table} WHERE originator_id IN ({{marks}}) "
                "ORDER BY originator_id, originator_version",
                ids,
            )
        aggregates: dict[str, Any] = {}
        mapper = self.app.mapper
        for row in rows:
            event = mapper.to_domain_event(StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            ))
            key = row["originator_id"]
            aggregates[key] = event.mutate(aggregates.get(key))  # type: ignore[attr-defined]
        return aggregates
