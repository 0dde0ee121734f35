"""Exits: a customer taken out of a journey by hand, and the enrollments of an archived
journey."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from eventsourcing.application import Application

from domain.caller import BY_SYSTEM, Caller
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

    def exit_customer(self, journey_id: str, customer_id: str, tenant_id: str | None = None,
                      caller: Caller = BY_SYSTEM) -> int:
        """Exit the customer's ACTIVE enrollment (reason MANUAL); NotFound if there is none.
        Returns the log position."""
        journey = self.journeys(journey_id, tenant_id)

        def attempt() -> int:
            loaded = Loaded(self.app, self.loader)
            slot: EnrollmentSlot | None = loaded.get(slot_id_for(journey.id, customer_id))
            enrollment: Enrollment | None = None if slot is None else loaded.get(slot.enrollment_id)
            if enrollment is None or not enrollment.is_active:
                raise NotFound(f"customer {customer_id} has no active enrollment in {journey_id}")
            enrollment.exit("MANUAL", self.clock(), caller.actor)
            enrollment.record()
            loaded.add(enrollment)
            return loaded.save(**caller.recorded_with(enrollment))

        return until_saved(attempt, "the enrollment")

    def exit_all(self, enrollment_ids: Sequence[str], reason: str,
                 caller: Caller = BY_SYSTEM) -> tuple[int, int]:
        """Exit those of these enrollments that are still ACTIVE, in transactions of up to
        CHUNK; returns (count, position). The receipt of the count is saved with the last.

        A chunk that keeps losing races (the scheduler is moving its enrollments) is 409
        BUSY; the engine exits what remains of an archived journey's enrollments."""
        exited, position = 0, 0
        starts = range(0, max(len(enrollment_ids), 1), CHUNK)
        for start in starts:
            chunk = enrollment_ids[start:start + CHUNK]
            last = start == starts[-1]

            def attempt(chunk: Sequence[str] = chunk, last: bool = last,
                        before: int = exited) -> tuple[int, int]:
                loaded = Loaded(self.app, self.loader)
                loaded.preload(chunk)
                now = self.clock()
                count = 0
                for enrollment_id in chunk:
                    enrollment: Enrollment | None = loaded.get(enrollment_id)
                    if enrollment is None or not enrollment.is_active:
                        continue
                    enrollment.exit(reason, now, caller.actor)
                    enrollment.record()
                    loaded.add(enrollment)
                    count += 1
                recorded = caller.recorded_with(before + count) if last else {}
                return count, loaded.save(**recorded)

            count, saved = until_saved(attempt, "the journey's enrollments")
            exited += count
            position = max(position, saved)
        return exited, position
