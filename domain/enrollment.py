"""The Enrollment aggregate: one customer's way through one journey."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from domain.aggregate import StrAggregate

ACTIVE, COMPLETED, EXITED, FAILED = "ACTIVE", "COMPLETED", "EXITED", "FAILED"
ADVANCE, WAIT, SEND = "advance", "wait", "send"


class Enrollment(StrAggregate):
    """`pending` says what the enrollment waits for at `current_step_id`, due at `due_at`:
    ADVANCE (run the step), WAIT (a timer) or SEND (a message to hand to the channel)."""

    id: str

    @event("Enrolled")
    def __init__(
        self,
        journey_id: str,
        tenant_id: str,
        customer_id: str,
        source: dict[str, Any],
        first_step_id: str | None,
        at: datetime,
    ) -> None:
        self.journey_id = journey_id
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.status = ACTIVE
        self.enrolled_at = at
        self.current_step_id = first_step_id
        self.pending: str | None = ADVANCE
        self.due_at = at
        self.message_id: str | None = None
        self.attempt = 0
        self.ended_at: datetime | None = None
        self.reason: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    @event("StepCompleted")
    def complete_step(
        self,
        step_id: str,
        step_type: str,
        outcome: dict[str, Any],
        next_step_id: str | None,
        at: datetime,
    ) -> None:
        """Record what a step decided; the enrollment moves on to `next_step_id`."""
        self.current_step_id = next_step_id
        self.pending = ADVANCE
        self.due_at = at
        self.message_id = None
        self.attempt = 0

    @event("WaitStarted")
    def start_wait(self, step_id: str, until: datetime, at: datetime) -> None:
        self.pending = WAIT
        self.due_at = until

    @event("MessageRequested")
    def request_message(
        self, step_id: str, message_id: str, channel: str, template_id: str, at: datetime
    ) -> None:
        self.pending = SEND
        self.due_at = at
        self.message_id = message_id
        self.message_channel = channel
        self.message_template_id = template_id
        self.attempt = 1

    @event("DeliveryFailed")
    def delivery_failed(
        self, step_id: str, message_id: str, attempt: int, reason: str, retry_at: datetime,
        at: datetime,
    ) -> None:
        """A transient failure: the same message is retried at `retry_at`."""
        self.attempt = attempt + 1
        self.due_at = retry_at

    @event("Completed")
    def complete(self, at: datetime) -> None:
        self._end(COMPLETED, None, at)

    @event("Exited")
    def exit(self, reason: str, at: datetime) -> None:
        self._end(EXITED, reason, at)

    @event("Failed")
    def fail(self, step_id: str | None, reason: str, at: datetime) -> None:
        self._end(FAILED, reason, at)

    def _end(self, status: str, reason: str | None, at: datetime) -> None:
        self.status = status
        self.reason = reason
        self.pending = None
        self.ended_at = at
