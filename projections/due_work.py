"""The due-work index the scheduler polls: one row per ACTIVE enrollment, by due time.

Rows are claimed with a lease (`claimed_until`, wall-clock time) so that several
schedulers never hand the same enrollment to the engine at once: PostgreSQL claims with
`FOR UPDATE SKIP LOCKED`, SQLite under its single-writer lock. A row changed by a new
event is unclaimed again, since the work it describes is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic

from domain.enrollment import Enrollment
from projections.projection import Projection, event_name, expand
from storage.database import Cursor, Database, Dialect
from storage.event_log import Item
from storage.values import iso

E = Enrollment


class DueWorkProjection(Projection):
    name = "due_work"
    weight = 2
    tables = ("due_work",)
    topics = frozenset(get_topic(getattr(E, n)) for n in ("Enrolled", "Advanced"))
    # An enrollment's row is its own.
    replayed_from = get_topic(E.Enrolled)  # type: ignore[attr-defined]

    def create_statements(self, dialect: Dialect) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS due_work ("
            "enrollment_id TEXT PRIMARY KEY, journey_id TEXT NOT NULL, due_at TEXT NOT NULL, "
            "kind TEXT NOT NULL, claimed_until TEXT)",
            "CREATE INDEX IF NOT EXISTS due_work_by_due_at ON due_work (due_at)",
            "CREATE INDEX IF NOT EXISTS due_work_by_journey ON due_work (journey_id)",
        ]

    def apply_batch(self, cursor: Cursor, items: Sequence[Item]) -> None:
        """Only each enrollment's last state in the batch is written (and only that state's
        due instant is formatted)."""
        journey_of: dict[str, str] = {}  # enrollments new in this batch
        last: dict[str, tuple[str, Any]] = {}  # enrollment -> the fact that sets its due work
        deletes: set[str] = set()
        for event, _position in expand(items):
            enrollment_id = event.originator_id
            name = event_name(event)
            if name in ("Completed", "Exited", "Failed"):
                last.pop(enrollment_id, None)
                if journey_of.pop(enrollment_id, None) is None:
                    deletes.add(enrollment_id)
                continue
            if name == "Enrolled":
                journey_of[enrollment_id] = event.journey_id
            last[enrollment_id] = (name, event)
        cursor.insert_many("due_work", ("enrollment_id", "journey_id", "due_at", "kind"),
                           [[i, journey, *_due(*last[i])] for i, journey in journey_of.items()])
        cursor.update_many("due_work", ("enrollment_id",), ("due_at", "kind", "claimed_until"),
                           [[*_due(*fact), None, i] for i, fact in last.items()
                            if i not in journey_of])
        cursor.delete_many("due_work", "enrollment_id", sorted(deletes))


def _due(name: str, event: Any) -> tuple[str | None, str]:
    if name == "WaitStarted":
        return iso(event.until), "wait"
    if name == "MessageRequested":
        return iso(event.at), "send"
    if name == "DeliveryFailed":  # retried then; or never, and a Failed follows
        return iso(event.retry_at or event.at), "send"
    return iso(event.at), "advance"


def claim_due(
    database: Database, now: datetime, lease_until: datetime, wall_now: datetime, limit: int
) -> list[str]:
    """Claim up to `limit` enrollments with work due at `now` (logical time), oldest first.

    Work of PAUSED journeys is held. Every enrollment of an ARCHIVED journey is claimable
    whatever its due time (the engine exits it). Claims of other schedulers are respected
    until their lease ends. Due work is found through the index on `due_at`, archived
    journeys' work through the index on `journey_id`: never a scan of all enrollments.
    """
    lock = " FOR UPDATE OF d SKIP LOCKED" if database.dialect == "postgres" else ""
    claimable = "(d.claimed_until IS NULL OR d.claimed_until < ?)"
    due = (
        "SELECT d.enrollment_id FROM due_work d JOIN journeys j ON j.id = d.journey_id "
        f"WHERE d.due_at <= ? AND j.status = 'ACTIVE' AND {claimable} "
        f"ORDER BY d.due_at LIMIT ?{lock}"
    )
    archived = (
        "SELECT d.enrollment_id FROM due_work d JOIN journeys j ON j.id = d.journey_id "
        f"WHERE j.status = 'ARCHIVED' AND {claimable} LIMIT ?{lock}"
    )
    claimed: list[str] = []
    with database.transaction() as cursor:
        for select, params in ((archived, (iso(wall_now),)), (due, (iso(now), iso(wall_now)))):
            if len(claimed) >= limit:
                break
            if database.dialect == "postgres":
                # The rows are picked and locked once, whatever the planner thinks of the
                # table's size: as `IN (subquery)`, statistics taken while the table was
                # small let it re-run the locking subquery for every row of due_work,
                # quadratic in the table (seconds per claim at a few thousand rows).
                statement = (f"WITH picked AS MATERIALIZED ({select}) "
                             "UPDATE due_work SET claimed_until = ? FROM picked "
                             "WHERE due_work.enrollment_id = picked.enrollment_id "
                             "RETURNING due_work.enrollment_id")
                values = (*params, limit - len(claimed), iso(lease_until))
            else:  # SQLite runs an uncorrelated IN subquery once
                statement = (f"UPDATE due_work SET claimed_until = ? WHERE enrollment_id IN "
                             f"({select}) RETURNING enrollment_id")
                values = (iso(lease_until), *params, limit - len(claimed))
            rows = cursor.execute(statement, values).fetchall()
            claimed += [row["enrollment_id"] for row in rows]
    return claimed


def next_due(database: Database, after: datetime) -> datetime | None:
    """The earliest instant after `after` at which work of an ACTIVE journey falls due
    (None if none is known): how long an idle scheduler may sleep without firing late."""
    row = database.query_one(
        "SELECT d.due_at FROM due_work d JOIN journeys j ON j.id = d.journey_id "
        "WHERE d.due_at > ? AND j.status = 'ACTIVE' ORDER BY d.due_at LIMIT 1",
        (iso(after),),
    )
    return None if row is None else datetime.fromisoformat(row["due_at"])


def release_claims(database: Database, enrollment_ids: list[str]) -> None:
    """Give back claims on work that turned out not to be due (so it is not held a lease long).

    A row locked meanwhile is being rewritten by the projection, which clears its claim
    itself: on PostgreSQL such rows are skipped rather than waited for, since waiting on
    a projection batch that updates the same rows in another order can deadlock."""
    if not enrollment_ids:
        return
    with database.transaction() as cursor:
        if database.dialect == "postgres":
            cursor.execute(  # picked once, as in claim_due
                "WITH picked AS MATERIALIZED (SELECT enrollment_id FROM due_work "
                "WHERE enrollment_id = ANY(?) FOR UPDATE SKIP LOCKED) "
                "UPDATE due_work SET claimed_until = NULL FROM picked "
                "WHERE due_work.enrollment_id = picked.enrollment_id", (sorted(enrollment_ids),))
        else:
            cursor.executemany("UPDATE due_work SET claimed_until = NULL WHERE enrollment_id = ?",
                               [(i,) for i in enrollment_ids])

