"""EnrollmentSlot: at most one ACTIVE enrollment per customer per journey, even under races.

Its id is derived from (journey, customer), so two concurrent enrollments of the same
customer both try to write the same version of the same slot; the store lets one win.

The slot names the customer's latest enrollment in the journey and is free again once
that enrollment has ended, so an ending is recorded on the enrollment alone: whoever
claims the slot next loads the enrollment it names and asks (decision 0010).
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
        self.enrollment_id = enrollment_id
        self.enrollments = 1

    def claim(self, enrollment_id: str, latest_is_active: bool, allow_reentry: bool,
              at: datetime) -> None:
        """Take the slot for a new enrollment; `latest_is_active` says whether the
        enrollment the slot names now is still ACTIVE."""
        if latest_is_active:
            raise Conflict(
                f"customer {self.customer_id} already has an active enrollment "
                f"({self.enrollment_id}) in this journey",
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
        self.enrollment_id = enrollment_id
        self.enrollments += 1
