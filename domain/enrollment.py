"""The Enrollment aggregate: one customer's way through one journey.

After `Enrolled`, everything that happens to an enrollment is a *fact* (a step completed,
a wait started, a message requested, a delivery failed, the enrollment completed, exited
or failed). The engine notes the facts of one pass in order and records them together as
one `Advanced` event, so a pass costs one stored event however many steps it ran
(decision 0010). Each fact sets the fields it changes to absolute values, so replaying a
pass's facts gives the same state whichever of them had been applied before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.caller import SYSTEM

ACTIVE, COMPLETED, EXITED, FAILED = "ACTIVE", "COMPLETED", "EXITED", "FAILED"
ADVANCE, WAIT, SEND = "advance", "wait", "send"
FACT_KINDS = ("StepCompleted", "WaitStarted", "MessageRequested", "DeliveryFailed",
              "Completed", "Exited", "Failed")
ENDINGS = {"Completed": COMPLETED, "Exited": EXITED, "Failed": FAILED}


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
        first_step_name: str | None = None,
    ) -> None:
        self.journey_id = journey_id
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.source = source
        self.status = ACTIVE
        self.enrolled_at = at
        self.current_step_id = first_step_id
        self.pending: str | None = ADVANCE
        self.due_at = at
        self.message_id: str | None = None
        self.message_channel = ""
        self.message_template_id = ""
        self.attempt = 0
        self.ended_at: datetime | None = None
        self.reason: str | None = None
        self.unrecorded: list[dict[str, Any]] = []

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    # Facts: each changes the state at once and waits for `record()` --------------------

    def complete_step(
        self, step_id: str, step_type: str, outcome: dict[str, Any], next_step_id: str | None,
        at: datetime, next_step_name: str | None = None,
    ) -> None:
        """Record what a step decided; the enrollment moves on to `next_step_id` (named
        `next_step_name` at that instant)."""
        self._note("StepCompleted", step_id=step_id, step_type=step_type, outcome=outcome,
                   next_step_id=next_step_id, next_step_name=next_step_name, at=at)

    def start_wait(self, step_id: str, until: datetime, at: datetime) -> None:
        self._note("WaitStarted", step_id=step_id, until=until, at=at)

    def request_message(
        self, step_id: str, message_id: str, channel: str, template_id: str, at: datetime
    ) -> None:
        self._note("MessageRequested", step_id=step_id, message_id=message_id, channel=channel,
                   template_id=template_id, at=at)

    def delivery_failed(
        self, step_id: str, message_id: str, attempt: int, reason: str,
        retry_at: datetime | None, at: datetime,
    ) -> None:
        """An attempt failed: the same message is tried again at `retry_at`, or never (None:
        a `Failed` follows)."""
        self._note("DeliveryFailed", step_id=step_id, message_id=message_id, attempt=attempt,
                   reason=reason, retry_at=retry_at, at=at)

    def complete(self, at: datetime) -> None:
        self._note("Completed", at=at)

    def exit(self, reason: str, at: datetime, actor: str = SYSTEM) -> None:
        self._note("Exited", reason=reason, at=at, actor=actor)

    def fail(self, step_id: str | None, reason: str, at: datetime) -> None:
        self._note("Failed", step_id=step_id, reason=reason, at=at)

    def record(self) -> None:
        """Record the facts noted since the last call as one `Advanced` event."""
        if self.unrecorded:
            facts, self.unrecorded = self.unrecorded, []
            self._advanced(facts, facts[-1]["at"])

    @event("Advanced")
    def _advanced(self, facts: list[dict[str, Any]], at: datetime) -> None:
        for fact in facts:
            self._apply(fact)

    def _note(self, kind: str, **fields: Any) -> None:
        fact = {"kind": kind, **fields}
        self._apply(fact)
        self.unrecorded.append(fact)

    def _apply(self, fact: dict[str, Any]) -> None:
        kind, at = fact["kind"], fact["at"]
        if kind == "StepCompleted":
            self.current_step_id = fact["next_step_id"]
            self.pending = ADVANCE
            self.due_at = at
            self.message_id = None
            self.attempt = 0
        elif kind == "WaitStarted":
            self.pending = WAIT
            self.due_at = fact["until"]
        elif kind == "MessageRequested":
            self.pending = SEND
            self.due_at = at
            self.message_id = fact["message_id"]
            self.message_channel = fact["channel"]
            self.message_template_id = fact["template_id"]
            self.attempt = 1
        elif kind == "DeliveryFailed":
            self.attempt = fact["attempt"] + 1
            self.due_at = fact["retry_at"] or at
        elif kind in ENDINGS:
            self.status = ENDINGS[kind]
            self.reason = fact.get("reason")
            self.pending = None
            self.ended_at = at
        else:
            raise ValueError(f"unknown enrollment fact {kind!r}")
