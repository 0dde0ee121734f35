"""Reading the event log in bulk: its notifications in order, many aggregates in one query
(the library loads one at a time), and whole aggregates found by their first events."""

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

from storage.database import Database

Item = tuple[Any, int]  # a domain event and its position in the log
# As the library's own reads: a dropped connection is retried ten times, 0.2 s apart.
_reconnecting = retry(retry=retry_if_exception_type((InterfaceError, OperationalError)),
                      stop=stop_after_attempt(10), wait=wait_fixed(0.2), reraise=True)


class EventLog:
    """The application's event table, read directly (rows as tuples: `Cursor.tuples`)."""

    def __init__(self, app: Application[Any], database: Database) -> None:
        recorder = app.recorder
        assert isinstance(recorder, ApplicationRecorder)
        self.recorder = recorder
        self.mapper = app.mapper
        self.database = database
        self.table: str = recorder.events_table_name  # type: ignore[attr-defined]
        self._id = database.notification_id

    def head(self) -> int:
        """The position of the last event recorded."""
        return self.recorder.max_notification_id() or 0

    def position_of(self, aggregate_id: str, version: int = 1) -> int | None:
        """Where one event of an aggregate stands in the log (None if not recorded)."""
        with self.database.reading() as cursor:
            rows = cursor.tuples(f"SELECT {self._id} FROM {self.table} WHERE originator_id = ? "
                                 "AND originator_version = ?", (aggregate_id, version))
        return int(rows[0][0]) if rows else None

    def decode(self, notification: Notification) -> Any:
        return self.mapper.to_domain_event(notification)

    @_reconnecting
    def read(self, start: int, stop: int, topics: Sequence[str], limit: int) -> list[Notification]:
        """At most `limit` notifications of these topics (all if none), from `start` to
        `stop` inclusive, in order."""
        with self.database.reading() as cursor:
            of_topics, params = cursor.any_of(topics) if topics else ("", [])
            rows = cursor.tuples(
                f"SELECT {self._id}, originator_id, originator_version, topic, state "
                f"FROM {self.table} WHERE {self._id} >= ? AND {self._id} <= ?"
                + (f" AND topic {of_topics}" if topics else "")
                + f" ORDER BY {self._id} LIMIT ?",
                (start, stop, *params, limit))
        return [Notification(id=row[0], originator_id=row[1], originator_version=row[2],
                             topic=row[3], state=row[4]) for row in rows]

    def load_many(self, aggregate_ids: Iterable[str]) -> dict[str, Any]:
        """The current state of each aggregate found; ids with no events are left out.
        Each aggregate's events come from one statement (its id is in one chunk); an
        aggregate read stale is refused at its save by the version it was read at."""
        ids = set(aggregate_ids)
        if not ids:
            return {}
        with self.database.reading() as cursor:
            rows = cursor.select_tuples_in(
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{self.table} WHERE originator_id {{any}} "
                "ORDER BY originator_id, originator_version",
                ids,
            )
        aggregates: dict[str, Any] = {}
        for key, version, topic, state in rows:
            event = self.mapper.to_domain_event(StoredEvent(
                originator_id=key, originator_version=version, topic=topic, state=bytes(state)))
            aggregates[key] = event.mutate(aggregates.get(key))  # type: ignore[attr-defined]
        return aggregates

    def aggregates_started(
        self, after: int, head: int, first_topic: str, topics: Sequence[str], limit: int
    ) -> tuple[int, list[Item], list[str]]:
        """The events of `topics` up to `head` of the next `limit` aggregates whose
        `first_topic` event comes after position `after`, each aggregate's in order,
        decoded, with their topics; and the position of the last such first event (0 when
        none is left)."""
        with self.database.reading() as cursor:
            starts = cursor.tuples(
                f"SELECT {self._id}, originator_id FROM {self.table} "
                f"WHERE {self._id} > ? AND {self._id} <= ? AND topic = ? "
                f"ORDER BY {self._id} LIMIT ?",
                (after, head, first_topic, limit))
            if not starts:
                return 0, [], []
            of_topics, topic_params = cursor.any_of(topics)
            rows = cursor.select_tuples_in(
                f"SELECT {self._id}, originator_id, originator_version, topic, state "
                f"FROM {self.table} WHERE originator_id {{any}} AND {self._id} <= ? "
                f"AND topic {of_topics} ORDER BY originator_id, originator_version",
                [row[1] for row in starts], after=(head, *topic_params), size=limit)
        items = [(self.decode(Notification(
            id=row[0], originator_id=row[1], originator_version=row[2], topic=row[3],
            state=row[4])), row[0]) for row in rows]
        return starts[-1][0], items, [row[3] for row in rows]
