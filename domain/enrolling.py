"""Starting an enrollment: the customer's slot in the journey is claimed (one ACTIVE
enrollment at a time, re-entry as the journey allows), and the enrollment begins at the
journey's first step. Trigger matching and manual enrollment both start them here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.customer import Customer
from domain.enrollment import Enrollment
from domain.enrollment_slot import EnrollmentSlot
from domain.ids import slot_id_for
from domain.journey import Journey
from domain.loading import Loaded


def start_enrollment(
    loaded: Loaded,
    journey: Journey,
    customer: Customer,
    enrollment_id: str,
    source: dict[str, Any],
    at: datetime,
) -> Enrollment:
    """Claim the customer's slot and start an enrollment, both added to `loaded`; or the
    slot's refusal, a Conflict (ALREADY_ENROLLED, REENTRY_NOT_ALLOWED)."""
    slot_id = slot_id_for(journey.id, customer.customer_id)
    slot: EnrollmentSlot | None = loaded.get(slot_id)
    if slot is None:
        slot = EnrollmentSlot(journey_id=journey.id, customer_id=customer.customer_id,
                              enrollment_id=enrollment_id, at=at,
                              id=slot_id)  # type: ignore[call-arg]
    else:
        latest: Enrollment | None = loaded.get(slot.enrollment_id)
        slot.claim(enrollment_id, latest is not None and latest.is_active,
                   journey.allow_reentry, at)
    enrollment = Enrollment(
        journey_id=journey.id, tenant_id=journey.tenant_id, customer_id=customer.customer_id,
        source=source, first_step_id=journey.steps[0].id if journey.steps else None, at=at,
        first_step_name=journey.steps[0].name if journey.steps else None,
        id=enrollment_id,  # type: ignore[call-arg]
    )
    loaded.add(slot)
    loaded.add(enrollment)
    return enrollment
