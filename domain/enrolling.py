"""Commands of the engine: customers, trigger events, enrollments, and running due steps."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError

from domain.aggregate import StrAggregate
from domain.conditions import evaluate
from domain.customer import Customer
from domain.delivery import Channel, RetryPolicy
from domain.engine import Progress, advance
from domain.enrollment import Enrollment
from domain.enrollment_slot import EnrollmentSlot
from domain.errors import Conflict, JourneysError, NotFound
from domain.ids import customer_id_for, slot_id_for, stable_id, trigger_event_id_for
from domain.journey import ACTIVE, Journey
from domain.ports import AggregateLoader, NoReadSide, ReadSide
from domain.retries import until_saved
from domain.trigger_event import TriggerEvent

A = TypeVar("A", bound=StrAggregate)
CONFLICT_ATTEMPTS = 5


@dataclass(frozen=True)
class IncomingEvent:
    tenant_id: str
    event_type: str
    customer_id: str
    event_id: str | None
    occurred_at: datetime | None
    data: dict[str, Any]
    customer: dict[str, Any] | None


@dataclass(frozen=True)
class ManualEnrollment:
    """One request to enroll a customer by hand (`tenant_id` None: any tenant's journey)."""

    journey_id: str
    customer_id: str
    tenant_id: str | None = None


@dataclass
class Ingested:
    accepted: int = 0
    duplicates: int = 0
    position: int = 0


@dataclass
class Processed:
    """What a pass of the engine did (and, for `match`, how many it enrolled)."""

    enrolled: int = 0
    enrollments: int = 0
    ended: int = 0
    messages: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    position: int = 0

    def count(self, enrollment_id: str, progress: Progress) -> None:
        if progress.changed:
            self.enrollments += 1
            self.changed.add(enrollment_id)
            self.messages += progress.messages
            self.ended += progress.ended

    def add(self, other: Processed) -> None:
        self.enrolled += other.enrolled
        self.enrollments += other.enrollments
        self.ended += other.ended
        self.messages += other.messages
        self.changed |= other.changed
        self.position = max(self.position, other.position)


class _Batch:
    """Aggregates loaded once per batch and saved together."""

    def __init__(self, app: Application[str], loader: AggregateLoader | None = None) -> None:
        self.app = app
        self.loader = loader
        self.loaded: dict[str, StrAggregate | None] = {}
        self.touched: dict[str, StrAggregate] = {}

    def preload(self, aggregate_ids: Iterable[str]) -> None:
        """Load many aggregates in one query (when a bulk loader is wired in)."""
        if self.loader is None:
            return
        wanted = [i for i in aggregate_ids if i not in self.loaded]
        found = self.loader.load_many(wanted)
        for aggregate_id in wanted:
            self.loaded[aggregate_id] = found.get(aggregate_id)

    def get(self, aggregate_id: str) -> Any:
        if aggregate_id not in self.loaded:
            try:
                self.loaded[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self.loaded[aggregate_id] = None
        return self.loaded[aggregate_id]

    def add(self, aggregate: StrAggregate) -> None:
        self.loaded[aggregate.id] = aggregate
        self.touched[aggregate.id] = aggregate

    def save(self) -> int:
        if not self.touched:
            return 0
        recordings = self.app.save(*self.touched.values())
        return max((r.notification.id for r in recordings), default=0)


class EnrollmentCommands(Application[str]):
    """Mixed into the application; needs `clock`, `new_id`, `read_side`, `channel`, `retry`."""

    clock: Callable[[], datetime]
    new_id: Callable[[str], str]
    read_side: ReadSide = NoReadSide()
    loader: AggregateLoader | None = None
    channel: Channel | None = None
    retry: RetryPolicy = RetryPolicy()

    def journey(self, journey_id: str, tenant_id: str | None = None) -> Journey:
        raise NotImplementedError

    # Customers -------------------------------------------------------------------

    def customer(self, tenant_id: str, customer_id: str) -> Customer:
        try:
            found: Customer = self.repository.get(customer_id_for(tenant_id, customer_id))
        except AggregateNotFoundError:
            raise NotFound(f"customer {customer_id} not found") from None
        return found

    def put_customer(
        self,
        tenant_id: str,
        customer_id: str,
        name: str | None,
        email: str | None,
        attributes: dict[str, Any],
    ) -> tuple[Customer, int, bool]:
        """Create or replace a profile; returns it, the log position, and whether it is new."""

        def attempt() -> tuple[Customer, int, bool]:
            now = self.clock()
            try:
                customer = self.customer(tenant_id, customer_id)
                customer.replace_profile(name, email, attributes, now)
                created = False
            except NotFound:
                customer = Customer.register(tenant_id, customer_id, now, name, email, attributes)
                created = True
            recordings = self.save(customer)
            return customer, max(r.notification.id for r in recordings), created

        return until_saved(attempt, "the customer")

    # Trigger events -----------------------------------------------------------------

    def ingest(self, events: Sequence[IncomingEvent]) -> Ingested:
        """Store trigger events durably; a repeated (tenant, eventId) is accepted and ignored."""
        now = self.clock()
        received: dict[str, IncomingEvent] = {}
        duplicates = 0
        for incoming in events:
            aggregate_id = (
                trigger_event_id_for(incoming.tenant_id, incoming.event_id)
                if incoming.event_id is not None
                else self.new_id("event")
            )
            if aggregate_id in received:
                duplicates += 1
                continue
            received[aggregate_id] = incoming

        def received_event(aggregate_id: str) -> TriggerEvent:
            incoming = received[aggregate_id]
            return TriggerEvent(
                tenant_id=incoming.tenant_id,
                event_type=incoming.event_type,
                customer_id=incoming.customer_id,
                event_id=incoming.event_id,
                occurred_at=incoming.occurred_at or now,
                data=incoming.data,
                customer=incoming.customer,
                at=now,
                id=aggregate_id,  # type: ignore[call-arg]
            )

        result = Ingested(duplicates=duplicates)
        try:
            recordings = self.save(*(received_event(i) for i in received))
            result.accepted = len(received)
            result.position = max((r.notification.id for r in recordings), default=0)
            return result
        except RecordConflictError:
            pass  # some were seen before: store the others one by one, made afresh
        for aggregate_id in received:
            try:
                recordings = self.save(received_event(aggregate_id))
            except RecordConflictError:
                result.duplicates += 1
                continue
            result.accepted += 1
            result.position = max([result.position, *(r.notification.id for r in recordings)])
        return result

    def match(self, triggers: Iterable[Any], now: datetime | None = None) -> Processed:
        """Enroll customers from `TriggerEvent.Received` events; safe to run twice on the same.

        Each enrollment's id derives from (journey, trigger event), and the customer's slot
        refuses a second active enrollment, so replaying a batch enrolls no one twice.
        Given `now`, the new enrollments' first pass runs at once and is saved with them
        (the steps due by `now`, exactly as the scheduler would run them next).
        """
        triggers = list(triggers)
        try:
            return self._match(triggers, now)
        except RecordConflictError:
            result = Processed()
            for trigger in triggers:
                result.add(self._match_each(trigger, now))
            return result

    def _match_each(self, trigger: Any, now: datetime | None) -> Processed:
        """One trigger on its own, reloading on conflict; a persistent conflict is raised, so
        the matcher keeps its position and the trigger is matched in a later round."""
        for _attempt in range(CONFLICT_ATTEMPTS - 1):
            try:
                return self._match([trigger], now)
            except RecordConflictError:
                continue
        return self._match([trigger], now)

    def _match(self, triggers: list[Any], now: datetime | None) -> Processed:
        batch = _Batch(self, self.loader)
        candidates: dict[tuple[str, str], list[str]] = {}
        for trigger in triggers:
            key = (trigger.tenant_id, trigger.event_type)
            if key not in candidates:
                candidates[key] = self.read_side.journeys_triggered_by(*key)
        pairs = [(t, j) for t in triggers for j in candidates[(t.tenant_id, t.event_type)]]
        slot_ids = [slot_id_for(j, t.customer_id) for t, j in pairs]
        batch.preload([customer_id_for(t.tenant_id, t.customer_id) for t in triggers] + slot_ids
                      + [stable_id("enrollment", j, t.originator_id) for t, j in pairs])
        slots: list[EnrollmentSlot] = [batch.get(i) for i in slot_ids if batch.get(i) is not None]
        batch.preload([slot.enrollment_id for slot in slots])  # still active?
        started: list[tuple[Enrollment, Journey, Customer]] = []
        for trigger in triggers:
            key = (trigger.tenant_id, trigger.event_type)
            if not candidates[key]:
                if trigger.customer:
                    self._customer_for(batch, trigger)  # the profile it carries is kept
                continue
            customer = self._customer_for(batch, trigger)
            profile = {**customer.profile(), **trigger.data}
            for journey_id in candidates[key]:
                journey: Journey | None = batch.get(journey_id)
                if journey is None or journey.status != ACTIVE or journey.trigger_type != trigger.event_type:
                    continue
                conditions = journey.trigger_config.get("conditions") or []
                if not evaluate(conditions, "AND", profile)[0]:
                    continue
                enrollment_id = stable_id("enrollment", journey_id, trigger.originator_id)
                if batch.get(enrollment_id) is not None:
                    continue  # this trigger enrolled here before: a replay after a crash
                source = {"type": "event", "eventId": trigger.event_id,
                          "triggerEventId": trigger.originator_id}
                enrollment = self._enroll(batch, journey, customer, enrollment_id, source,
                                          trigger.at)
                if enrollment is not None:
                    started.append((enrollment, journey, customer))
        result = Processed(enrolled=len(started))
        if now is not None and self.channel is not None:
            for enrollment, journey, customer in started:  # after every trigger is matched
                progress = advance(enrollment, journey, customer, now, self.channel, self.retry)
                result.count(enrollment.id, progress)
                if progress.customer_changed:
                    batch.add(customer)
        result.position = batch.save()
        return result

    def _customer_for(self, batch: _Batch, trigger: Any) -> Customer:
        customer: Customer | None = batch.get(customer_id_for(trigger.tenant_id, trigger.customer_id))
        profile = trigger.customer or {}
        if customer is None:
            customer = Customer.register(
                trigger.tenant_id, trigger.customer_id, trigger.at, profile.get("name"),
                profile.get("email"), dict(profile.get("attributes") or {}),
            )
            batch.add(customer)
        elif profile:
            customer.merge_profile(profile.get("name"), profile.get("email"),
                                   dict(profile.get("attributes") or {}), trigger.at)
            batch.add(customer)
        return customer

    def _enroll(
        self,
        batch: _Batch,
        journey: Journey,
        customer: Customer,
        enrollment_id: str,
        source: dict[str, Any],
        at: datetime,
        refusal_is_error: bool = False,
    ) -> Enrollment | None:
        """Claim the customer's slot and start an enrollment; None if the slot refuses
        (or the slot's Conflict, when `refusal_is_error`)."""
        slot: EnrollmentSlot | None = batch.get(slot_id_for(journey.id, customer.customer_id))
        if slot is None:
            slot = EnrollmentSlot(journey_id=journey.id, customer_id=customer.customer_id,
                                  enrollment_id=enrollment_id, at=at,
                                  id=slot_id_for(journey.id, customer.customer_id))  # type: ignore[call-arg]
        else:
            latest: Enrollment | None = batch.get(slot.enrollment_id)
            try:
                slot.claim(enrollment_id, latest is not None and latest.is_active,
                           journey.allow_reentry, at)
            except Conflict:
                if refusal_is_error:
                    raise
                return None
        enrollment = Enrollment(
            journey_id=journey.id, tenant_id=journey.tenant_id, customer_id=customer.customer_id,
            source=source, first_step_id=journey.steps[0].id if journey.steps else None, at=at,
            id=enrollment_id,  # type: ignore[call-arg]
        )
        batch.add(slot)
        batch.add(enrollment)
        return enrollment

    # Enrollments by hand ---------------------------------------------------------------

    def enroll(
        self, journey_id: str, customer_id: str, tenant_id: str | None = None
    ) -> tuple[Enrollment, Journey, int]:
        """Manual enrollment: the trigger's conditions do not apply; unknown customers are made.
        Returns the enrollment, the journey it was made in, and the log position."""
        outcome = self.enroll_many([ManualEnrollment(journey_id, customer_id, tenant_id)])[0]
        if isinstance(outcome, JourneysError):
            raise outcome
        return outcome

    def enroll_many(
        self, requests: Sequence[ManualEnrollment]
    ) -> list[tuple[Enrollment, Journey, int] | JourneysError]:
        """Manual enrollments saved together (one transaction, one log position): for each
        request, in order, what `enroll` would return, or the refusal it would raise. A
        later request sees what an earlier one of the same call did (a second enrollment
        of one customer in one journey is refused as it would be one after the other)."""

        def attempt() -> list[tuple[Enrollment, Journey, int] | JourneysError]:
            journeys = {key: self._enrolling_journey(*key)
                        for key in dict.fromkeys((r.journey_id, r.tenant_id) for r in requests)}
            targets = [journeys[(r.journey_id, r.tenant_id)] for r in requests]
            batch = _Batch(self, self.loader)
            batch.preload(key for request, journey in zip(requests, targets, strict=True)
                          if isinstance(journey, Journey)
                          for key in (customer_id_for(journey.tenant_id, request.customer_id),
                                      slot_id_for(journey.id, request.customer_id)))  # one query
            now = self.clock()
            made = [journey if isinstance(journey, JourneysError)
                    else self._enroll_by_hand(batch, journey, request.customer_id, now)
                    for request, journey in zip(requests, targets, strict=True)]
            position = batch.save()
            return [enrollment if isinstance(enrollment, JourneysError)
                    else (enrollment, cast(Journey, journey), position)
                    for enrollment, journey in zip(made, targets, strict=True)]

        return until_saved(attempt, "the customer's enrollment")

    def _enroll_by_hand(
        self, batch: _Batch, journey: Journey, customer_id: str, now: datetime
    ) -> Enrollment | Conflict:
        """Enroll the customer (registered if unknown), or the slot's refusal (only a
        customer known before has a slot to refuse)."""
        customer: Customer | None = batch.get(customer_id_for(journey.tenant_id, customer_id))
        if customer is None:
            customer = Customer.register(journey.tenant_id, customer_id, now)
            batch.add(customer)
        try:
            enrollment = self._enroll(batch, journey, customer, self.new_id("enrollment"),
                                      {"type": "manual"}, now, refusal_is_error=True)
        except Conflict as refused:
            return refused
        assert enrollment is not None  # refusals raise
        return enrollment

    def _enrolling_journey(self, journey_id: str, tenant_id: str | None) -> Journey | JourneysError:
        """The journey to enroll into, or why it cannot take enrollments."""
        try:
            journey = self.journey(journey_id, tenant_id)
        except NotFound as missing:
            return missing
        if journey.status != ACTIVE:
            return Conflict(f"only ACTIVE journeys enroll; this one is {journey.status}",
                            code="JOURNEY_NOT_ACTIVE")
        return journey

    def exit_customer(self, journey_id: str, customer_id: str, tenant_id: str | None = None) -> int:
        """Exit the customer's ACTIVE enrollment (reason MANUAL); NotFound if there is none."""
        journey = self.journey(journey_id, tenant_id)

        def attempt() -> int:
            batch = _Batch(self, self.loader)
            slot: EnrollmentSlot | None = batch.get(slot_id_for(journey.id, customer_id))
            enrollment: Enrollment | None = None if slot is None else batch.get(slot.enrollment_id)
            if enrollment is None or not enrollment.is_active:
                raise NotFound(f"customer {customer_id} has no active enrollment in {journey_id}")
            enrollment.exit("MANUAL", self.clock())
            enrollment.record()
            batch.add(enrollment)
            return batch.save()

        return until_saved(attempt, "the enrollment")

    def exit_all(self, journey_id: str, reason: str, batch_size: int = 200) -> tuple[int, int]:
        """Exit every ACTIVE enrollment the read side knows of; returns (count, position).

        A chunk that keeps losing races (the scheduler is moving its enrollments) is 409
        BUSY; the journey is archived by then, so the engine exits whatever remains.
        """
        exited, position = 0, 0
        ids = self.read_side.active_enrollment_ids(journey_id)
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]

            def attempt(chunk: list[str] = chunk) -> tuple[int, int]:
                batch = _Batch(self, self.loader)
                batch.preload(chunk)
                now = self.clock()
                count = 0
                for enrollment_id in chunk:
                    enrollment: Enrollment | None = batch.get(enrollment_id)
                    if enrollment is None or not enrollment.is_active:
                        continue
                    enrollment.exit(reason, now)
                    enrollment.record()
                    batch.add(enrollment)
                    count += 1
                return count, batch.save()

            count, saved = until_saved(attempt, "the journey's enrollments")
            exited += count
            position = max(position, saved)
        return exited, position

    # Running due steps -----------------------------------------------------------------

    def process(self, enrollment_ids: Sequence[str], now: datetime) -> Processed:
        """Run every due step of these enrollments at `now`, saving them in one transaction.

        If another process saved one of them meanwhile, each is retried on its own.
        """
        try:
            return self._process(enrollment_ids, now)
        except RecordConflictError:
            result = Processed()
            for enrollment_id in enrollment_ids:
                try:
                    result.add(self._process([enrollment_id], now))
                except RecordConflictError:
                    continue
            return result

    def _process(self, enrollment_ids: Sequence[str], now: datetime) -> Processed:
        if self.channel is None:
            raise RuntimeError("no delivery channel configured")
        batch = _Batch(self, self.loader)
        result = Processed()
        batch.preload(enrollment_ids)
        enrollments = [e for e in (batch.loaded.get(i) for i in enrollment_ids) if e is not None]
        batch.preload([customer_id_for(e.tenant_id, e.customer_id)  # type: ignore[attr-defined]
                       for e in enrollments])
        for enrollment_id in enrollment_ids:
            enrollment: Enrollment | None = batch.get(enrollment_id)
            if enrollment is None or not enrollment.is_active:
                continue
            journey: Journey = batch.get(enrollment.journey_id)
            customer: Customer = batch.get(customer_id_for(enrollment.tenant_id,
                                                           enrollment.customer_id))
            progress = advance(enrollment, journey, customer, now, self.channel, self.retry)
            if not progress.changed:
                continue
            batch.add(enrollment)
            result.count(enrollment.id, progress)
            if progress.customer_changed:
                batch.add(customer)
        result.position = batch.save()
        return result

