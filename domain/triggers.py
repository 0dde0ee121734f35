"""Trigger events: received durably, then matched against the tenant's ACTIVE journeys,
enrolling the customer where the journey's trigger conditions hold."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import PersistenceError, RecordConflictError

from domain.advancing import Advancing, Processed
from domain.caller import BY_SYSTEM, Caller
from domain.conditions import evaluate
from domain.customer import Customer
from domain.enrolling import start_enrollment
from domain.enrollment import Enrollment
from domain.errors import Conflict
from domain.ids import IdFactory, customer_id_for, slot_id_for, stable_id, trigger_event_id_for
from domain.journey import ACTIVE, Journey
from domain.loading import Loaded
from domain.ports import AggregateLoader, TriggeredJourneys
from domain.retries import until_saved
from domain.trigger_event import TriggerEvent
from domain.trigger_outcomes import (
    CONDITIONS_NOT_MET,
    JOURNEY_NOT_ACTIVE,
    TriggerOutcomes,
    outcomes_id_for,
)

log = logging.getLogger("journeys.triggers")
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
class Ingested:
    """`event_ids`: each event's id, in the order given: the client's `eventId`, or the one
    made for it (its trigger event's id)."""

    accepted: int = 0
    duplicates: int = 0
    position: int = 0
    event_ids: tuple[str, ...] = ()


class Triggers:
    def __init__(
        self,
        app: Application[str],
        clock: Callable[[], datetime],
        new_id: IdFactory,
        journeys: TriggeredJourneys,
        loader: AggregateLoader,
        advancing: Advancing,
    ) -> None:
        self.app = app
        self.clock = clock
        self.new_id = new_id
        self.journeys = journeys
        self.loader = loader
        self.advancing = advancing

    def ingest(self, events: Sequence[IncomingEvent], caller: Caller = BY_SYSTEM) -> Ingested:
        """Store trigger events durably, in one transaction; a repeated (tenant, eventId),
        in the batch or stored before, is accepted and ignored."""
        now = self.clock()
        received: dict[str, IncomingEvent] = {}
        event_ids: list[str] = []
        for incoming in events:
            aggregate_id = (trigger_event_id_for(incoming.tenant_id, incoming.event_id)
                            if incoming.event_id is not None else self.new_id("event"))
            received.setdefault(aggregate_id, incoming)
            event_ids.append(incoming.event_id or aggregate_id)
        ids = list(received)

        def attempt() -> Ingested:
            known = self.loader.load_many(
                i for i, incoming in received.items() if incoming.event_id is not None)
            new = [i for i in ids if i not in known]
            result = Ingested(accepted=len(new), duplicates=len(events) - len(new),
                              event_ids=tuple(event_ids))
            recordings = self.app.save(*(self._received(i, received[i], now, caller) for i in new),
                                       **caller.recorded_with(result))
            position = max((r.notification.id for r in recordings), default=0)
            return replace(result, position=position)

        return until_saved(attempt, "the trigger events")

    @staticmethod
    def _received(aggregate_id: str, incoming: IncomingEvent, now: datetime,
                  caller: Caller) -> TriggerEvent:
        return TriggerEvent(
            tenant_id=incoming.tenant_id, event_type=incoming.event_type,
            customer_id=incoming.customer_id, event_id=incoming.event_id,
            occurred_at=incoming.occurred_at or now, data=incoming.data,
            customer=incoming.customer, at=now, actor=caller.actor,
            id=aggregate_id,  # type: ignore[call-arg]
        )

    def match(self, triggers: Iterable[Any], now: datetime | None = None) -> Processed:
        """Enroll customers from `TriggerEvent.Received` events; safe to run twice on the same.

        Each enrollment's id derives from (journey, trigger event), and the customer's slot
        refuses a second active enrollment, so replaying a batch enrolls no one twice.
        Given `now`, the new enrollments' first pass runs at once and is saved with them
        (the steps due by `now`, exactly as the scheduler would run them next). If the
        batch cannot be saved as a whole, each trigger event is matched on its own; one
        that fails for a reason other than a race is set aside, with its reason.
        """
        triggers = list(triggers)
        try:
            return self._match(triggers, now)
        except RecordConflictError:
            pass
        except PersistenceError:
            raise  # the database, not the triggers: the batch is matched in a later round
        except Exception as error:  # noqa: BLE001 - logged; each trigger is tried on its own
            log.warning("matching %d trigger events together failed (%s: %s); matching each "
                        "on its own, setting aside any that fails", len(triggers),
                        type(error).__name__, error)
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
            except PersistenceError:
                raise  # the database, not the trigger: matched again in a later round
            except Exception as error:  # noqa: BLE001 - set aside with its reason
                return Processed(set_aside=[(trigger.originator_id,
                                             f"set aside: {type(error).__name__}: {error}")])
        return self._match([trigger], now)

    def _match(self, triggers: list[Any], now: datetime | None) -> Processed:
        loaded = Loaded(self.app, self.loader)
        candidates: dict[tuple[str, str], list[str]] = {}  # the ACTIVE journeys of a type
        for trigger in triggers:
            key = (trigger.tenant_id, trigger.event_type)
            if key not in candidates:
                candidates[key] = self.journeys.journeys_triggered_by(*key)
        pairs = [(t, j) for t in triggers for j in candidates[(t.tenant_id, t.event_type)]]
        slot_ids = [slot_id_for(j, t.customer_id) for t, j in pairs]
        loaded.preload([customer_id_for(t.tenant_id, t.customer_id) for t in triggers] + slot_ids
                       + [stable_id("enrollment", j, t.originator_id) for t, j in pairs])
        slots = [slot for slot in (loaded.get(i) for i in slot_ids) if slot is not None]
        loaded.preload([slot.enrollment_id for slot in slots])  # still active?
        started: list[tuple[Enrollment, Journey, Customer]] = []
        not_enrolled: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
        for trigger in triggers:
            key = (trigger.tenant_id, trigger.event_type)
            journey_ids = candidates[key]
            # A journey of the type that is not ACTIVE gets no record: an archived one would
            # add an event to every trigger event for good. Its outcome is read from the
            # absence of any other (`projections/trigger_queries.py`, `decisions/0041`).
            refused: list[dict[str, Any]] = []
            if journey_ids or trigger.customer:
                customer = self._customer_for(loaded, trigger)  # the profile it carries is kept
                profile = {**customer.profile(), **trigger.data}
            for journey_id in journey_ids:
                journey: Journey | None = loaded.get(journey_id)
                if journey is None or journey.status != ACTIVE or journey.trigger_type != trigger.event_type:
                    refused.append({"journey_id": journey_id, "outcome": JOURNEY_NOT_ACTIVE})
                    continue
                holds, seen = evaluate(journey.trigger_config.get("conditions") or [], "AND",
                                       profile)
                if not holds:
                    refused.append({"journey_id": journey_id, "outcome": CONDITIONS_NOT_MET,
                                    "values": seen})
                    continue
                enrollment_id = stable_id("enrollment", journey_id, trigger.originator_id)
                if loaded.get(enrollment_id) is not None:
                    continue  # this trigger enrolled here before: a replay after a crash
                source: dict[str, Any] = {"type": "event", "eventId": trigger.event_id,
                                          "triggerEventId": trigger.originator_id,
                                          "values": seen}
                try:
                    enrollment = start_enrollment(loaded, journey, customer, enrollment_id,
                                                  source, trigger.at)
                except Conflict as slot:  # enrolled already, or once only
                    refused.append({"journey_id": journey_id, "outcome": slot.code})
                    continue
                started.append((enrollment, journey, customer))
            if refused:
                not_enrolled[trigger.originator_id] = (trigger, refused)
        self._record_outcomes(loaded, not_enrolled)
        result = Processed(enrolled=len(started))
        if now is not None:  # after every trigger is matched
            result.add(self.advancing.passes(loaded, started, now))
        result.position = loaded.save()
        return result

    @staticmethod
    def _record_outcomes(loaded: Loaded,
                         not_enrolled: dict[str, tuple[Any, list[dict[str, Any]]]]) -> None:
        """Why each of these trigger events enrolled nobody in some journeys; kept once (a
        batch matched again after a crash finds its record)."""
        loaded.preload(outcomes_id_for(i) for i in not_enrolled)
        for trigger_event_id, (trigger, refused) in not_enrolled.items():
            if loaded.get(outcomes_id_for(trigger_event_id)) is None:
                loaded.add(TriggerOutcomes.record(trigger_event_id, refused, trigger.at))

    @staticmethod
    def _customer_for(loaded: Loaded, trigger: Any) -> Customer:
        customer: Customer | None = loaded.get(customer_id_for(trigger.tenant_id, trigger.customer_id))
        profile = trigger.customer or {}
        if customer is None:
            customer = Customer.register(
                trigger.tenant_id, trigger.customer_id, trigger.at, profile.get("name"),
                profile.get("email"), dict(profile.get("attributes") or {}),
            )
            loaded.add(customer)
        elif profile:
            customer.merge_profile(profile.get("name"), profile.get("email"),
                                   dict(profile.get("attributes") or {}), trigger.at)
            loaded.add(customer)
        return customer
