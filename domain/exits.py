"""Exits: a customer taken out of a journey by hand, and the enrollments of an archived
journey."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from eventsourcing.application import Application

from domain.enrollment import Enrollment
from domain.enrollment_slot import EnrollmentSlot
from domain.errors import NotFound
from domain.ids import slot_id_for
from domain.loading import Loaded
from domain.ports import AggregateLoader, JourneyLookup
from domain.retries import until_saved

CHUNK = 200  # enrollments exited per transaction


class Exits:
    def __init__(self, app: Application[str], journeys: JourneyLookup,
                 clock: Callable[[], datetime], loader: AggregateLoader) -> None:
        self.app = app
        self.journeys = journeys
        self.clock = clock
        self.loader = loader

    def exit_customer(self, journey_id: str, customer_id: str, tenant_id: str | None = None) -> int:
        """Exit the customer's ACTIVE enrollment (reason MANUAL); NotFound if there is none.
        Returns the log position."""
        journey = self.journeys(journey_id, tenant_id)

        def attempt() -> int:
            loaded = Loaded(self.app, self.loader)
            slot: EnrollmentSlot | None = loaded.get(slot_id_for(journey.id, customer_id))
            enrollment: Enrollment | None = None if slot is None else loaded.get(slot.enrollment_id)
            if enrollment is None or not enrollment.is_active:
                raise NotFound(f"customer {customer_id} has no active enrollment in {journey_id}")
            enrollment.exit("MANUAL", self.clock())
            enrollment.record()
            loaded.add(enrollment)
            return loaded.save()

        return until_saved(attempt, "the enrollment")

    def exit_all(self, enrollment_ids: Sequence[str], reason: str) -> tuple[int, int]:
        """Exit those of these enrollments that are still ACTIVE; returns (count, position).

        A chunk that keeps losing races (the scheduler is moving its enrollments) is 409
        BUSY; the engine exits what remains of an archived journey's enrollments."""
        exited, position = 0, 0
        for start in range(0, len(enrollment_ids), CHUNK):
            chunk = enrollment_ids[start:start + CHUNK]

            def attempt(chunk: Sequence[str] = chunk) -> tuple[int, int]:
                loaded = Loaded(self.app, self.loader)
                loaded.preload(chunk)
                now = self.clock()
                count = 0
                for enrollment_id in chunk:
                    enrollment: Enrollment | None = loaded.get(enrollment_id)
                    if enrollment is None or not enrollment.is_active:
                        continue
                    enrollment.exit(reason, now)
                    enrollment.record()
                    loaded.add(enrollment)
                    count += 1
                return count, loaded.save()

            count, saved = until_saved(attempt, "the journey's enrollments")
            exited += count
            position = max(position, saved)
        return exited, position
