"""The enrollments read model: `enrollments`, their step history, and per-journey and
per-step statistics.

One projection owns all five tables because the statistics need the enrollment's journey
and current step when it leaves (an exit while waiting stops counting as waiting). A batch
is folded in memory (`Batch`) and written back in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.enrollment import Enrollment
from projections.enrollment_batch import (
    JOURNEY_STAT_COLUMNS,
    SERIES_COLUMNS,
    STAT_COLUMNS,
    Batch,
)
from projections.projection import Fact, Projection, expand
from storage.database import Cursor, Dialect, Row
from storage.event_log import Item
from storage.values import from_json, iso, to_json

ENDED = {"COMPLETED": "total_completed", "EXITED": "total_exited", "FAILED": "total_failed"}
FACTS = ("StepCompleted", "WaitStarted", "MessageRequested", "DeliveryFailed", "Completed",
         "Exited", "Failed")


class EnrollmentsProjection(Projection):
    name = "enrollments"
    weight = 4
    tables = ("enrollments", "enrollment_steps", "step_stats", "step_variant_stats",
              "journey_stats", "journey_series", "messages")
    topics = frozenset(get_topic(getattr(Enrollment, n)) for n in ("Enrolled", "Advanced"))
    # An enrollment's rows are its own; the statistics are sums of its deltas.
    replayed_from = get_topic(Enrollment.Enrolled)  # type: ignore[attr-defined]

    def create_statements(self, dialect: Dialect) -> list[str]:
        stats = ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in STAT_COLUMNS)
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
            "step_name TEXT, step_type TEXT, status TEXT NOT NULL, started_at TEXT NOT NULL, "
            "completed_at TEXT, "
            "outcome TEXT NOT NULL, PRIMARY KEY (enrollment_id, seq))",
            "CREATE TABLE IF NOT EXISTS step_stats ("
            f"journey_id TEXT NOT NULL, step_id TEXT NOT NULL, {stats}, "
            "PRIMARY KEY (journey_id, step_id))",
            "CREATE TABLE IF NOT EXISTS step_variant_stats ("
            "journey_id TEXT NOT NULL, step_id TEXT NOT NULL, variant INTEGER NOT NULL, "
            "entered BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (journey_id, step_id, variant))",
            "CREATE TABLE IF NOT EXISTS journey_stats (journey_id TEXT PRIMARY KEY, "
            + ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in JOURNEY_STAT_COLUMNS) + ")",
            "CREATE TABLE IF NOT EXISTS journey_series (journey_id TEXT NOT NULL, "
            "bucket TEXT NOT NULL, "
            + ", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in SERIES_COLUMNS)
            + ", PRIMARY KEY (journey_id, bucket))",
            "CREATE TABLE IF NOT EXISTS messages ("
            "id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, journey_id TEXT NOT NULL, "
            "enrollment_id TEXT NOT NULL, customer_id TEXT NOT NULL, step_id TEXT NOT NULL, "
            "channel TEXT NOT NULL, template_id TEXT NOT NULL, requested_at TEXT NOT NULL, "
            "delivered_at TEXT, updated_at TEXT NOT NULL, attempts INTEGER NOT NULL, "
            "status TEXT NOT NULL, last_error TEXT)",
            "CREATE INDEX IF NOT EXISTS messages_by_journey "
            "ON messages (journey_id, status, requested_at, id)",
        ]

    def apply_batch(self, cursor: Cursor, items: Sequence[Item]) -> None:
        enrolled_here = {e.originator_id for e, _ in items if type(e).__name__ == "Enrolled"}
        batch = Batch.read(cursor, {e.originator_id for e, _ in items} - enrolled_here)
        self.fold(batch, expand(items))
        batch.write(cursor)

    def fold(self, batch: Batch, items: Iterable[Item]) -> None:
        """Change the batch's rows by these events, facts apart, in order. (The hottest
        loop of a rebuild: a fact's handler is found in a dictionary, its name read
        inline.)"""
        handlers = {name: getattr(self, "_" + name.lower()) for name in FACTS}
        for event, position in items:
            if type(event) is not Fact:  # Enrolled: facts come from Advanced events
                self._enrolled(batch, event, position)
                continue
            row = batch.enrollments[event.originator_id]
            row["position"] = position
            handlers[event.kind](batch, row, event)

    # Events ----------------------------------------------------------------------

    @staticmethod
    def _enrolled(batch: Batch, event: Any, position: int) -> None:
        row: Row = {
            "id": event.originator_id, "journey_id": event.journey_id,
            "tenant_id": event.tenant_id, "customer_id": event.customer_id, "status": "ACTIVE",
            "current_step_id": event.first_step_id, "waiting_until": None,
            "enrolled_at": iso(event.at), "ended_at": None, "reason": None,
            "source": to_json(event.source), "steps_entered": 0, "position": position,
        }
        batch.enrollments[row["id"]] = row
        batch.new_enrollments.add(row["id"])
        batch.count(event.journey_id, row["enrolled_at"], "enrolled")
        counters = batch.journeys[event.journey_id]
        counters["total_enrolled"] += 1
        counters["active_enrollments"] += 1
        if event.first_step_id:
            batch.enter(row, event.first_step_id, getattr(event, "first_step_name", None),
                        row["enrolled_at"])

    @staticmethod
    def _stepcompleted(batch: Batch, row: Row, event: Any) -> None:
        at = iso(event.at)
        current = batch.current(row)
        outcome = event.outcome
        if event.step_type == "SEND":  # the errors of the attempts before the one delivered
            errors = from_json(current["outcome"]).get("errors")
            outcome = {**outcome, "errors": errors} if errors else outcome
            message = batch.message(row, outcome["messageId"])
            message.update(status="DELIVERED", delivered_at=at, updated_at=at,
                           attempts=outcome.get("attempts", message["attempts"] + 1))
            batch.count(row["journey_id"], at, "messages_sent")
        current["status"], current["completed_at"] = "COMPLETED", at
        current["step_type"], current["outcome"] = event.step_type, to_json(outcome)
        journey_id = row["journey_id"]
        batch.bump(journey_id, event.step_id, "completed")
        if event.step_type == "WAIT":
            batch.bump(journey_id, event.step_id, "waiting", -1)
        elif event.step_type == "CONDITION":
            yes = event.outcome.get("branch") == "yes"
            batch.bump(journey_id, event.step_id, "branch_yes" if yes else "branch_no")
        elif event.step_type == "SPLIT":
            batch.variants[(journey_id, event.step_id, event.outcome["variant"])] += 1
        row["current_step_id"], row["waiting_until"] = event.next_step_id, None
        if event.next_step_id:
            batch.enter(row, event.next_step_id, getattr(event, "next_step_name", None), at)

    @staticmethod
    def _waitstarted(batch: Batch, row: Row, event: Any) -> None:
        until = iso(event.until)
        batch.current(row)["outcome"] = to_json({"waitingUntil": until})
        batch.bump(row["journey_id"], event.step_id, "waiting")
        row["waiting_until"] = until

    @staticmethod
    def _messagerequested(batch: Batch, row: Row, event: Any) -> None:
        at = iso(event.at)
        batch.request({
            "id": event.message_id, "tenant_id": row["tenant_id"],
            "journey_id": row["journey_id"], "enrollment_id": row["id"],
            "customer_id": row["customer_id"], "step_id": event.step_id,
            "channel": event.channel, "template_id": event.template_id, "requested_at": at,
            "delivered_at": None, "updated_at": at, "attempts": 0, "status": "PENDING",
            "last_error": None})
        batch.current(row)["outcome"] = to_json({
            "messageId": event.message_id, "channel": event.channel,
            "templateId": event.template_id, "attempts": 0})

    @staticmethod
    def _deliveryfailed(batch: Batch, row: Row, event: Any) -> None:
        current = batch.current(row)
        batch.message(row, event.message_id).update(
            attempts=event.attempt, last_error=event.reason, updated_at=iso(event.at))
        before = from_json(current["outcome"])
        attempt = {"attempt": event.attempt, "error": event.reason, "at": iso(event.at)}
        current["outcome"] = to_json({**before, "messageId": event.message_id,
                                      "attempts": event.attempt, "lastError": event.reason,
                                      "retryAt": iso(event.retry_at),
                                      "errors": [*before.get("errors", []), attempt]})

    def _completed(self, batch: Batch, row: Row, event: Any) -> None:
        self._end(batch, row, event, "COMPLETED", None)

    def _exited(self, batch: Batch, row: Row, event: Any) -> None:
        self._end(batch, row, event, "EXITED", event.reason)

    def _failed(self, batch: Batch, row: Row, event: Any) -> None:
        self._end(batch, row, event, "FAILED", event.reason)

    @staticmethod
    def _end(batch: Batch, row: Row, event: Any, status: str, reason: str | None) -> None:
        at = iso(event.at)
        step_id = row["current_step_id"]
        if step_id and status != "COMPLETED":
            current = batch.current(row)
            if current["status"] == "ACTIVE":
                current.update(status="FAILED" if status == "FAILED" else "SKIPPED",
                               completed_at=at)
                message_id = from_json(current["outcome"]).get("messageId")
                if message_id:  # a message pending at that step: it never goes
                    failed = status == "FAILED"
                    batch.message(row, message_id).update(
                        status="FAILED" if failed else "CANCELLED", updated_at=at)
                    if failed:
                        batch.count(row["journey_id"], at, "messages_failed")
            batch.bump(row["journey_id"], step_id, "failed" if status == "FAILED" else "exited")
            if row["waiting_until"]:
                batch.bump(row["journey_id"], step_id, "waiting", -1)
        row.update(status=status, ended_at=at, reason=reason, waiting_until=None)
        batch.count(row["journey_id"], at, status.lower())
        counters = batch.journeys[row["journey_id"]]
        counters[ENDED[status]] += 1
        counters["active_enrollments"] -= 1
