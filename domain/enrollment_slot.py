"""EnrollmentSlot: at most one ACTIVE enrollment per customer per journey, even under races.

Its id is derived from (journey, customer), so two concurrent enrollments of the same
customer both try to write the same version of the same slot; the store lets one win.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.errors import Conflict


class EnrollmentSlot(StrAggregate):
    id: str

    @event("FirstClaimed")
    def __init__(self, journey_id: str, customer_id: str, enrollment_id: str, at: datetime) -> None:
        self.journey_id = journey_id
        self.customer_id = customer_id
        self.active_enrollment_id: str | None = enrollment_id
        self.enrollments = 1

    def claim(self, enrollment_id: str, allow_reentry: bool, at: datetime) -> None:
        if self.active_enrollment_id is not None:
            raise Conflict(
                f"customer {self.customer_id} already has an active enrollment "
                f"({self.active_enrollment_id}) in this journey",
                code="ALREADY_ENROLLED",
            )
        if not allow_reentry:
            raise Conflict(
                f"customer {self.customer_id} was enrolled before and the journey does not "
                "allow re-entry",
                code="REENTRY_NOT_ALLOWED",
            )
        self._claimed(enrollment_id, at)

    @event("Claimed")
    def _claimed(self, enrollment_id: str, at: datetime) -> None:
        self.active_enrollment_id = enrollment_id
        self.enrollments += 1

    def release(self, enrollment_id: str, at: datetime) -> None:
        if self.active_enrollment_id == enrollment_id:
            self._released(enrollment_id, at)

    @event("Released")
    def _released(self, enrollment_id: str, at: datetime) -> None:
        self.active_enrollment_id = None
