"""Reading the event log: many aggregates in one query (the library loads one at a time),
and its notifications in order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

from projections.database import Database
from projections.projection import select_tuples_in


# As the library's own reads: a dropped connection is retried ten times, 0.2 s apart.
@retry(retry=retry_if_exception_type((InterfaceError, OperationalError)),
       stop=stop_after_attempt(10), wait=wait_fixed(0.2), reraise=True)
def read_notifications(recorder: ApplicationRecorder, database: Database, start: int,
                       stop: int, topics: Sequence[str], limit: int) -> Sequence[Notification]:
    """At most `limit` notifications of these topics (all if none), from `start` to `stop`
    inclusive, in order: the recorder's `select_notifications`, except on PostgreSQL,
    where the same statement's rows come as tuples in binary (`Cursor.tuples`; the
    library reads them as dicts, each state as hex): half the time."""
    if database.dialect != "postgres":
        return recorder.select_notifications(start=start, limit=limit, stop=stop,
                                             topics=topics)
    table = recorder.events_table_name  # type: ignore[attr-defined]
    of_topics = " AND topic = ANY(?)" if topics else ""
    with database.reading() as cursor:
        rows = cursor.tuples(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM "
            f"{table} WHERE notification_id >= ? AND notification_id <= ?{of_topics} "
            "ORDER BY notification_id LIMIT ?",
            (start, stop, *([list(topics)] if topics else []), limit))
    return [Notification(id=row[0], originator_id=row[1], originator_version=row[2],
                         topic=row[3], state=row[4]) for row in rows]


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
            rows = select_tuples_in(
                cursor,
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{self.table} WHERE originator_id IN ({{marks}}) "
                "ORDER BY originator_id, originator_version",
                ids,
            )
        aggregates: dict[str, Any] = {}
        mapper = self.app.mapper
        for key, version, topic, state in rows:
            event = mapper.to_domain_event(StoredEvent(
                originator_id=key, originator_version=version, topic=topic, state=bytes(state)))
            aggregates[key] = event.mutate(aggregates.get(key))  # type: ignore[attr-defined]
        return aggregates
