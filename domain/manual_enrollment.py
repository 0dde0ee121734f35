"""Enrolling a customer by hand: the trigger's conditions do not apply (an operator's
choice overrides them), and an unknown customer is registered on the way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError

from domain.caller import BY_SYSTEM, Caller, ReceiptTaken
from domain.customer import Customer
from domain.enrolling import start_enrollment
from domain.enrollment import Enrollment
from domain.errors import Conflict, JourneysError, NotFound
from domain.ids import IdFactory, customer_id_for, slot_id_for
from domain.journey import ACTIVE, Journey
from domain.loading import Loaded
from domain.ports import AggregateLoader, JourneyLookup
from domain.retries import until_saved


@dataclass(frozen=True)
class ManualEnrollment:
    """One request to enroll a customer by hand (`tenant_id` None: any tenant's journey)."""

    journey_id: str
    customer_id: str
    tenant_id: str | None = None
    caller: Caller = BY_SYSTEM


@dataclass(frozen=True)
class Enrolled:
    """A new enrollment, the number of the step it starts at, and its log position (0 while
    it is not saved yet)."""

    enrollment: Enrollment
    step_number: int | None
    position: int


class ManualEnrolling:
    def __init__(self, app: Application[str], journeys: JourneyLookup,
                 clock: Callable[[], datetime], new_id: IdFactory,
                 loader: AggregateLoader) -> None:
        self.app = app
        self.journeys = journeys
        self.clock = clock
        self.new_id = new_id
        self.loader = loader

    def enroll(self, journey_id: str, customer_id: str, tenant_id: str | None = None,
               caller: Caller = BY_SYSTEM) -> Enrolled:
        outcome = self.enroll_many([ManualEnrollment(journey_id, customer_id, tenant_id,
                                                     caller)])[0]
        if isinstance(outcome, JourneysError | ReceiptTaken):
            raise outcome
        return outcome

    def enroll_many(
        self, requests: Sequence[ManualEnrollment]
    ) -> list[Enrolled | JourneysError | ReceiptTaken]:
        """Manual enrollments saved together (one transaction, one log position): for each
        request, in order, what `enroll` would return, or the refusal it would raise. A
        later request sees what an earlier one of the same call did (a second enrollment
        of one customer in one journey is refused as it would be one after the other).
        Each request's receipt is saved with the enrollments, in the same transaction; a
        refusal's is not (it records nothing). A request whose receipt another request
        took first is answered ReceiptTaken, and the group saved again without it."""

        answered: dict[int, ReceiptTaken] = {}  # requests answered by an earlier one

        def attempt() -> list[Enrolled | JourneysError | ReceiptTaken]:
            journeys = {key: self._enrolling_journey(*key)
                        for key in dict.fromkeys((r.journey_id, r.tenant_id) for r in requests)}
            targets: list[Journey | JourneysError | ReceiptTaken] = [
                answered.get(n) or journeys[(r.journey_id, r.tenant_id)]
                for n, r in enumerate(requests)]
            loaded = Loaded(self.app, self.loader)
            loaded.preload(key for request, journey in zip(requests, targets, strict=True)
                           if isinstance(journey, Journey)
                           for key in (customer_id_for(journey.tenant_id, request.customer_id),
                                       slot_id_for(journey.id, request.customer_id)))  # one query
            now = self.clock()
            made = [journey if not isinstance(journey, Journey)
                    else _enrolled(self._enroll(loaded, journey, request, now), journey)
                    for request, journey in zip(requests, targets, strict=True)]
            receipts = {n: receipt for n, (request, outcome) in enumerate(zip(requests, made,
                                                                               strict=True))
                        if isinstance(outcome, Enrolled)
                        for receipt in request.caller.recorded_with(outcome).get("receipts", [])}
            try:
                position = loaded.save(receipts=list(receipts.values())) if receipts \
                    else loaded.save()
            except ReceiptTaken as taken:  # that request only: the others go on without it
                answered.update((n, taken) for n, r in receipts.items() if r is taken.receipt)
                raise RecordConflictError("a request of the group was answered before") from taken
            return [replace(outcome, position=position) if isinstance(outcome, Enrolled)
                    else outcome for outcome in made]

        return until_saved(attempt, "the customer's enrollment")

    def _enroll(self, loaded: Loaded, journey: Journey, request: ManualEnrollment,
                now: datetime) -> Enrollment | Conflict:
        """Enroll the customer (registered if unknown), or the slot's refusal (only a
        customer known before has a slot to refuse)."""
        actor = request.caller.actor
        customer: Customer | None = loaded.get(customer_id_for(journey.tenant_id,
                                                               request.customer_id))
        if customer is None:
            customer = Customer.register(journey.tenant_id, request.customer_id, now,
                                         actor=actor)
            loaded.add(customer)
        try:
            return start_enrollment(loaded, journey, customer, self.new_id("enrollment"),
                                    {"type": "manual", "actor": actor}, now)
        except Conflict as refused:
            return refused

    def _enrolling_journey(self, journey_id: str, tenant_id: str | None) -> Journey | JourneysError:
        """The journey to enroll into, or why it cannot take enrollments."""
        try:
            journey = self.journeys(journey_id, tenant_id)
        except NotFound as missing:
            return missing
        if journey.status != ACTIVE:
            return Conflict(f"only ACTIVE journeys enroll; this one is {journey.status}",
                            code="JOURNEY_NOT_ACTIVE")
        return journey


def _enrolled(made: Enrollment | Conflict, journey: Journey) -> Enrolled | Conflict:
    if isinstance(made, Conflict):
        return made
    numbers = {step.id: number for number, step in enumerate(journey.steps, start=1)}
    return Enrolled(made, numbers.get(made.current_step_id or ""), 0)
