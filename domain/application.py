"""The application: each public method is one command, answered from the write side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, cast

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import BaseAggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import Recording
from eventsourcing.utils import EnvType

from domain.caller import BY_SYSTEM, Caller
from domain.customer import Customer
from domain.errors import NotFound
from domain.ids import IdFactory, customer_id_for, is_id_of, random_id
from domain.journey import Journey, check_details
from domain.retries import until_saved
from domain.steps import Step

Clock = Callable[[], datetime]
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What a command changed, and the log position a reader must reach to see it (0 while
    it is not saved yet)."""

    journey: Journey
    position: int
    detail: Any = None


@dataclass(frozen=True)
class ProfileSaved:
    customer: Customer
    created: bool
    position: int = 0


class _Together:
    """Aggregates offered to the library's `Application.save` as one object. `save` checks
    every object it is given against two runtime-checkable protocols, a cost per aggregate
    that adds up where a save holds a thousand or more (`decisions/0025`). This object is
    checked once and gives the events of all of them, in their order."""

    __slots__ = ("_aggregates", "id")

    def __init__(self, aggregates: list[BaseAggregate[str]]) -> None:
        self.id = "together"
        self._aggregates = aggregates

    def collect_events(self) -> list[Any]:
        events: list[Any] = []
        for aggregate in self._aggregates:
            events += aggregate.collect_events()
        return events


class JourneysApplication(Application[str]):
    """The event store, and the commands on journeys and customer profiles. The commands
    on enrollments are use cases of their own (`triggers`, `manual_enrollment`,
    `advancing`, `exits`), given this application to load and save with."""

    name = "journeys"
    env = {"ORIGINATOR_ID_TYPE": "text", "AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(self, env: EnvType | None = None, *, clock: Clock,
                 new_id: IdFactory = random_id) -> None:
        super().__init__(env)
        self.clock = clock
        self.new_id = new_id

    def save(
        self,
        *objs: MutableOrImmutableAggregate[str] | DomainEventProtocol[str] | None,
        **kwargs: Any,
    ) -> list[Recording[str]]:
        """The library's save; several aggregates go as one object (`_Together`) where the
        library does nothing with them one by one (no snapshots, no cache filled on save)."""
        aggregates = [obj for obj in objs if obj is not None]
        if (len(aggregates) > 1 and not self.snapshots
                and (self.repository.cache is None or self.repository.fastforward)
                and all(isinstance(obj, BaseAggregate) for obj in aggregates)):
            together: Any = _Together(cast(list[BaseAggregate[str]], aggregates))
            return super().save(together, **kwargs)
        return super().save(*objs, **kwargs)

    # Queries on the write side (used by commands, never by GET endpoints) ------

    def customer(self, tenant_id: str, customer_id: str) -> Customer:
        try:
            found: Customer = self.repository.get(customer_id_for(tenant_id, customer_id))
        except AggregateNotFoundError:
            raise NotFound(f"customer {customer_id} not found") from None
        return found

    def journey(self, journey_id: str, tenant_id: str | None = None) -> Journey:
        if not is_id_of("journey", journey_id):
            raise NotFound(f"journey {journey_id} not found")
        try:
            journey: Journey = self.repository.get(journey_id)
        except AggregateNotFoundError:
            raise NotFound(f"journey {journey_id} not found") from None
        if journey.deleted or (tenant_id is not None and journey.tenant_id != tenant_id):
            raise NotFound(f"journey {journey_id} not found")
        return journey

    # Commands ------------------------------------------------------------------

    def put_customer(
        self,
        tenant_id: str,
        customer_id: str,
        name: str | None,
        email: str | None,
        attributes: dict[str, Any],
        caller: Caller = BY_SYSTEM,
    ) -> ProfileSaved:
        """Create or replace a profile."""

        def attempt() -> ProfileSaved:
            now = self.clock()
            try:
                customer = self.customer(tenant_id, customer_id)
                customer.replace_profile(name, email, attributes, now, caller.actor)
                saved = ProfileSaved(customer, created=False)
            except NotFound:
                customer = Customer.register(tenant_id, customer_id, now, name, email, attributes,
                                             actor=caller.actor)
                saved = ProfileSaved(customer, created=True)
            recordings = self.save(customer, **caller.recorded_with(saved))
            return replace(saved, position=max(r.notification.id for r in recordings))

        return until_saved(attempt, "the customer")

    def create_journey(
        self,
        tenant_id: str,
        name: str,
        trigger_type: str,
        description: str | None = None,
        trigger_config: dict[str, Any] | None = None,
        allow_reentry: bool = False,
        timezone: str = "UTC",
        created_by: str | None = None,
        caller: Caller = BY_SYSTEM,
    ) -> Outcome:
        details: dict[str, Any] = {
            "timezone": timezone,
            "trigger_config": trigger_config or {"conditions": []},
        }
        check_details(details)
        journey = Journey(
            tenant_id=tenant_id,
            name=name,
            description=description,
            trigger_type=trigger_type,
            trigger_config=details["trigger_config"],
            allow_reentry=allow_reentry,
            timezone=timezone,
            created_by=created_by,
            at=self.clock(),
            actor=caller.actor,
            id=self.new_id("journey"),  # type: ignore[call-arg]  # accepted by the library's metaclass
        )
        created = Outcome(journey, 0)
        return replace(created, position=self._save(journey, **caller.recorded_with(created)))

    def update_journey(self, journey_id: str, changes: dict[str, Any],
                       tenant_id: str | None = None, caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.update_details(changes, self.clock(), caller.actor))

    def activate(self, journey_id: str, tenant_id: str | None = None,
                 caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.activate(self.clock(), caller.actor))

    def pause(self, journey_id: str, tenant_id: str | None = None,
              caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.pause(self.clock(), caller.actor))

    def resume(self, journey_id: str, tenant_id: str | None = None,
               caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.resume(self.clock(), caller.actor))

    def archive(self, journey_id: str, tenant_id: str | None = None,
                caller: Caller = BY_SYSTEM) -> Outcome:
        """Archive the journey. Its ACTIVE enrollments are exited by `Exits.exit_all`, and
        any the caller did not know of by the engine, when it next looks at them."""
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.archive(self.clock(), caller.actor))

    def delete_journey(self, journey_id: str, tenant_id: str | None = None,
                       caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.delete(self.clock(), caller.actor))

    def add_step(
        self,
        journey_id: str,
        step_type: str,
        name: str,
        config: dict[str, Any] | None = None,
        successors: dict[str, str | None] | None = None,
        after_step_id: str | None = None,
        tenant_id: str | None = None,
        caller: Caller = BY_SYSTEM,
    ) -> Outcome:
        step = Step(
            id=self.new_id("step"),
            type=step_type,
            name=name,
            config=config or {},
            **(successors or {}),
        )

        def add(journey: Journey) -> Step:
            journey.add_step(step, after_step_id, self.clock(), caller.actor)
            return step

        return self._change(journey_id, tenant_id, caller, add)

    def update_step(
        self,
        journey_id: str,
        step_id: str,
        changes: dict[str, Any],
        tenant_id: str | None = None,
        caller: Caller = BY_SYSTEM,
    ) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.update_step(step_id, changes, self.clock(), caller.actor))

    def remove_step(self, journey_id: str, step_id: str, tenant_id: str | None = None,
                    caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.remove_step(step_id, self.clock(), caller.actor))

    def reorder_steps(self, journey_id: str, step_ids: list[str], tenant_id: str | None = None,
                      caller: Caller = BY_SYSTEM) -> Outcome:
        return self._change(journey_id, tenant_id, caller,
                            lambda j: j.reorder_steps(step_ids, self.clock(), caller.actor))

    # Plumbing ------------------------------------------------------------------

    def _change(self, journey_id: str, tenant_id: str | None, caller: Caller,
                decide: Callable[[Journey], T]) -> Outcome:
        """Load, decide, save; a concurrent writer means reload and decide again."""

        def attempt() -> Outcome:
            journey = self.journey(journey_id, tenant_id)
            decided = Outcome(journey, 0, decide(journey))
            return replace(decided, position=self._save(journey, **caller.recorded_with(decided)))

        return until_saved(attempt, "the journey")

    def _save(self, journey: Journey, **kwargs: Any) -> int:
        recordings = self.save(journey, **kwargs)
        return max((r.notification.id for r in recordings), default=0)
