"""The enrollments read model: `enrollments`, their step history, and per-step statistics.

One projection owns all four tables because the statistics need the enrollment's current
step when it leaves (an exit while waiting stops counting as waiting).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic

from domain.enrollment import Enrollment
from projections.database import Cursor, Dialect, iso, to_json
from projections.projection import Projection

E = Enrollment
EVENTS = ("Enrolled", "StepCompleted", "WaitStarted", "MessageRequested", "DeliveryFailed",
          "Completed", "Exited", "Failed")


class EnrollmentsProjection(Projection):
    name = "enrollments"
    tables = ("enrollments", "enrollment_steps", "step_stats", "step_variant_stats")
    topics = frozenset(get_topic(getattr(E, n)) for n in EVENTS)

    def create_statements(self, dialect: Dialect) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS enrollments ("
            "id TEXT PRIMARY KEY, journey_id TEXT NOT NULL, tenant_id TEXT NOT NULL, "
            "customer_id TEXT NOT NULL, status TEXT NOT NULL, current_step_id TEXT, "
            "waiting_until TEXT, enrolled_at TEXT NOT NULL, ended_at TEXT, reason TEXT, "
            "source TEXT NOT NULL, steps_entered INTEGER NOT NULL, "
            "position BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS enrollments_by_journey "
            "ON enrollments (journey_id, enrolled_at, id)",
            "CREATE INDEX IF NOT EXISTS enrollments_by_journey_status "
            "ON enrollments (journey_id, status, enrolled_at, id)",
            "CREATE INDEX IF NOT EXISTS enrollments_by_customer "
            "ON enrollments (tenant_id, customer_id)",
            "CREATE TABLE IF NOT EXISTS enrollment_steps ("
            "enrollment_id TEXT NOT NULL, seq INTEGER NOT NULL, step_id TEXT NOT NULL, "
            "step_type TEXT, status TEXT NOT NULL, started_at TEXT NOT NULL, completed_at TEXT, "
            "outcome TEXT NOT NULL, PRIMARY KEY (enrollment_id, seq))",
            "CREATE TABLE IF NOT EXISTS step_stats ("
            "journey_id TEXT NOT NULL, step_id TEXT NOT NULL, "
            "entered BIGINT NOT NULL DEFAULT 0, completed BIGINT NOT NULL DEFAULT 0, "
            "failed BIGINT NOT NULL DEFAULT 0, waiting BIGINT NOT NULL DEFAULT 0, "
            "branch_yes BIGINT NOT NULL DEFAULT 0, branch_no BIGINT NOT NULL DEFAULT 0, "
            "PRIMARY KEY (journey_id, step_id))",
            "CREATE TABLE IF NOT EXISTS step_variant_stats ("
            "journey_id TEXT NOT NULL, step_id TEXT NOT NULL, variant INTEGER NOT NULL, "
            "entered BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (journey_id, step_id, variant))",
        ]

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        handler = getattr(self, "_" + type(event).__name__.lower())
        handler(cursor, event, position)

    # Events ----------------------------------------------------------------------

    def _enrolled(self, cursor: Cursor, event: Any, position: int) -> None:
        first = event.first_step_id
        cursor.execute(
            "INSERT INTO enrollments (id, journey_id, tenant_id, customer_id, status, "
            "current_step_id, enrolled_at, source, steps_entered, position) "
            "VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)",
            (event.originator_id, event.journey_id, event.tenant_id, event.customer_id, first,
             iso(event.at), to_json(event.source), 1 if first else 0, position),
        )
        if first:
            self._enter(cursor, event.originator_id, 1, first, event.at)
            _bump(cursor, event.journey_id, first, "entered")

    def _stepcompleted(self, cursor: Cursor, event: Any, position: int) -> None:
        row = self._row(cursor, event.originator_id)
        at = iso(event.at)
        cursor.execute(
            "UPDATE enrollment_steps SET status = 'COMPLETED', completed_at = ?, step_type = ?, "
            "outcome = ? WHERE enrollment_id = ? AND seq = ?",
            (at, event.step_type, to_json(event.outcome), event.originator_id,
             row["steps_entered"]),
        )
        journey_id = row["journey_id"]
        _bump(cursor, journey_id, event.step_id, "completed")
        if event.step_type == "WAIT":
            _bump(cursor, journey_id, event.step_id, "waiting", -1)
        elif event.step_type == "CONDITION":
            branch = "branch_yes" if event.outcome.get("branch") == "yes" else "branch_no"
            _bump(cursor, journey_id, event.step_id, branch)
        elif event.step_type == "SPLIT":
            cursor.execute(
                "INSERT INTO step_variant_stats (journey_id, step_id, variant, entered) "
                "VALUES (?, ?, ?, 1) ON CONFLICT (journey_id, step_id, variant) "
                "DO UPDATE SET entered = step_variant_stats.entered + 1",
                (journey_id, event.step_id, event.outcome["variant"]),
            )
        entered = row["steps_entered"]
        if event.next_step_id:
            entered += 1
            self._enter(cursor, event.originator_id, entered, event.next_step_id, event.at)
            _bump(cursor, journey_id, event.next_step_id, "entered")
        cursor.execute(
            "UPDATE enrollments SET current_step_id = ?, waiting_until = NULL, "
            "steps_entered = ?, position = ? WHERE id = ?",
            (event.next_step_id, entered, position, event.originator_id),
        )

    def _waitstarted(self, cursor: Cursor, event: Any, position: int) -> None:
        row = self._row(cursor, event.originator_id)
        until = iso(event.until)
        self._outcome(cursor, row, {"waitingUntil": until})
        _bump(cursor, row["journey_id"], event.step_id, "waiting")
        cursor.execute(
            "UPDATE enrollments SET waiting_until = ?, position = ? WHERE id = ?",
            (until, position, event.originator_id),
        )

    def _messagerequested(self, cursor: Cursor, event: Any, position: int) -> None:
        row = self._row(cursor, event.originator_id)
        self._outcome(cursor, row, {"messageId": event.message_id, "channel": event.channel,
                                    "templateId": event.template_id, "attempts": 0})

    def _deliveryfailed(self, cursor: Cursor, event: Any, position: int) -> None:
        row = self._row(cursor, event.originator_id)
        self._outcome(cursor, row, {"messageId": event.message_id, "attempts": event.attempt,
                                    "lastError": event.reason,
                                    "retryAt": iso(event.retry_at)})

    def _completed(self, cursor: Cursor, event: Any, position: int) -> None:
        self._end(cursor, event, position, "COMPLETED", None)

    def _exited(self, cursor: Cursor, event: Any, position: int) -> None:
        self._end(cursor, event, position, "EXITED", event.reason)

    def _failed(self, cursor: Cursor, event: Any, position: int) -> None:
        self._end(cursor, event, position, "FAILED", event.reason)

    # Helpers ---------------------------------------------------------------------

    @staticmethod
    def _row(cursor: Cursor, enrollment_id: str) -> dict[str, Any]:
        row = cursor.execute(
            "SELECT id, journey_id, steps_entered, current_step_id, waiting_until "
            "FROM enrollments WHERE id = ?", (enrollment_id,)
        ).fetchone()
        assert row is not None, f"enrollment {enrollment_id} was never enrolled"
        return row

    @staticmethod
    def _enter(cursor: Cursor, enrollment_id: str, seq: int, step_id: str, at: Any) -> None:
        cursor.execute(
            "INSERT INTO enrollment_steps (enrollment_id, seq, step_id, status, started_at, "
            "outcome) VALUES (?, ?, ?, 'ACTIVE', ?, '{}')",
            (enrollment_id, seq, step_id, iso(at)),
        )

    @staticmethod
    def _outcome(cursor: Cursor, row: dict[str, Any], outcome: dict[str, Any]) -> None:
        cursor.execute(
            "UPDATE enrollment_steps SET outcome = ? WHERE enrollment_id = ? AND seq = ?",
            (to_json(outcome), row["id"], row["steps_entered"]),
        )

    def _end(self, cursor: Cursor, event: Any, position: int, status: str,
             reason: str | None) -> None:
        enrollment_id = event.originator_id
        row = self._row(cursor, enrollment_id)
        at = iso(event.at)
        if row["current_step_id"] and status != "COMPLETED":
            step_status = "FAILED" if status == "FAILED" else "SKIPPED"
            cursor.execute(
                "UPDATE enrollment_steps SET status = ?, completed_at = ? "
                "WHERE enrollment_id = ? AND seq = ? AND status = 'ACTIVE'",
                (step_status, at, enrollment_id, row["steps_entered"]),
            )
            if status == "FAILED":
                _bump(cursor, row["journey_id"], row["current_step_id"], "failed")
            if row["waiting_until"]:
                _bump(cursor, row["journey_id"], row["current_step_id"], "waiting", -1)
        cursor.execute(
            "UPDATE enrollments SET status = ?, ended_at = ?, reason = ?, waiting_until = NULL, "
            "position = ? WHERE id = ?",
            (status, at, reason, position, enrollment_id),
        )


def _bump(cursor: Cursor, journey_id: str, step_id: str, column: str, by: int = 1) -> None:
    cursor.execute(
        f"INSERT INTO step_stats (journey_id, step_id, {column}) VALUES (?, ?, ?) "
        f"ON CONFLICT (journey_id, step_id) DO UPDATE SET {column} = step_stats.{column} + ?",
        (journey_id, step_id, by, by),
    )
