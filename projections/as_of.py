"""State at an instant of the past, folded from the log for auditors (`docs/audit.md`).

A journey is its aggregate folded from its events up to the instant; an enrollment is its
events, facts apart, folded by the enrollments read model's own code into rows held in
memory (`Batch`), so it reads exactly as the read model would have read then. Events are
folded in version order up to the first one after the instant. Instants compare at the
millisecond, as the read models store them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import takewhile
from typing import Any, TypeVar

from eventsourcing.application import Application

from domain.journey import Journey
from projections.customers import get_customer
from projections.enrollment_batch import JOURNEY_STAT_COLUMNS, Batch
from projections.enrollments import EnrollmentsProjection
from projections.projection import expand
from storage.database import Database, Row
from storage.values import iso

T = TypeVar("T")


def _until(items: Iterable[T], cutoff: str, event: Any = lambda item: item) -> Iterator[T]:
    """The items up to the first whose event happened after `cutoff`."""
    return takewhile(lambda item: iso(event(item).at) <= cutoff, items)


def journey(app: Application[str], journey_id: str, at: datetime) -> Journey | None:
    """The journey as it stood at `at`; None if it did not exist yet, or was deleted."""
    folded: Any = None
    recorded: Iterable[Any] = app.events.get(journey_id)
    for event in _until(recorded, iso(at)):
        folded = event.mutate(folded)
    if folded is None or not isinstance(folded, Journey) or folded.deleted:
        return None
    return folded


def counters(database: Database, journey_id: str, at: datetime) -> Row:
    """The journey's enrollment counters at `at`, from its enrollments' instants in the
    enrollments read model (as far as it has read the log)."""
    cutoff = iso(at)
    ended = {"total_completed": "COMPLETED", "total_exited": "EXITED",
             "total_failed": "FAILED"}
    row = database.query_one(
        "SELECT COUNT(*) AS total_enrolled, "
        + ", ".join(f"SUM(CASE WHEN status = '{status}' AND ended_at <= ? THEN 1 ELSE 0 END) "
                    f"AS {name}" for name, status in ended.items())
        + ", SUM(CASE WHEN ended_at IS NULL OR ended_at > ? THEN 1 ELSE 0 END) "
          "AS active_enrollments FROM enrollments WHERE journey_id = ? AND enrolled_at <= ?",
        (cutoff, cutoff, cutoff, cutoff, journey_id, cutoff),
    )
    return {name: int(row[name] or 0) if row else 0 for name in JOURNEY_STAT_COLUMNS}


def enrollment_ids(database: Database, journey_id: str, at: datetime, take: int) -> list[str]:
    """The first `take` enrollments begun by `at`, in the list's order."""
    rows = database.query(
        "SELECT id FROM enrollments WHERE journey_id = ? AND enrolled_at <= ? "
        "ORDER BY enrolled_at, id LIMIT ?", (journey_id, iso(at), take))
    return [row["id"] for row in rows]


def enrollment(app: Application[str], enrollment_id: str, at: datetime,
               steps_of: Journey | None = None) -> Row | None:
    """The enrollment at `at`, in the rows `enrollment_queries.get_enrollment` gives (its
    steps numbered as in `steps_of`, the journey at that instant); None if it had not begun."""
    cutoff = iso(at)
    events: list[Any] = list(app.events.get(enrollment_id))
    if not events or type(events[0]).__name__ != "Enrolled" or iso(events[0].at) > cutoff:
        return None
    batch = Batch()
    facts = expand((event, 0) for event in events)
    EnrollmentsProjection().fold(batch, _until(facts, cutoff, lambda item: item[0]))
    return batch.as_read(steps_of.steps if steps_of else [])[enrollment_id]


def listed(database: Database, enrollment: Row) -> Row:
    """The enrollment with its customer's name and email (as they are now), as the list
    of a journey's enrollments shows it."""
    customer = get_customer(database, enrollment["tenant_id"], enrollment["customer_id"]) or {}
    return {**enrollment, "customer_name": customer.get("name"),
            "customer_email": customer.get("email")}
