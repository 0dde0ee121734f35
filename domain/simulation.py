"""The dry run: a journey's current definition run over given customers on a virtual clock,
by the engine's own code (`advance`), on aggregates that live in memory only. Nothing is
saved and nothing is sent: the channel records what it is handed and answers delivered.

The same input gives the same answer: the clock is the input's, and each customer's
enrollment id is derived from the journey and the customer, so a SPLIT draws its variant
by the same rule as a live enrollment of that id would.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application

from domain.customer import Customer
from domain.delivery import DeliveryResult, Message, RetryPolicy
from domain.engine import advance
from domain.enrollment import Enrollment
from domain.errors import Conflict
from domain.graph import graph_problems
from domain.ids import customer_id_for, stable_id
from domain.journey import ACTIVE, Journey

# Passes of the engine per customer: a journey without cycles ends long before (a pass
# runs every step due at once; only a WAIT makes another pass).
MAX_PASSES = 1000


def simulated_enrollment_id(journey_id: str, customer_id: str) -> str:
    return stable_id("enrollment", journey_id, customer_id, "dry run")


@dataclass
class Recorded:
    """A channel that sends nothing: it keeps each message and answers delivered."""

    name: str = "dry-run"
    messages: list[Message] = field(default_factory=list)

    def send(self, message: Message) -> DeliveryResult:
        self.messages.append(message)
        return DeliveryResult("delivered")


@dataclass
class Simulated:
    """One customer's run: the enrollment (its events not saved), and its messages."""

    enrollment: Enrollment
    messages: list[Message]
    stopped: str | None = None  # why the run stopped with the enrollment still ACTIVE


def simulate(journey: Journey, customers: list[Customer], start: datetime,
             until: datetime) -> list[Simulated]:
    """Each customer enrolled at `start` and moved on until its path ends or `until`."""
    definition = copy.copy(journey)  # runs in any status; the journey itself is untouched
    definition.status = ACTIVE
    return [_run(definition, customer, start, until) for customer in customers]


def _run(journey: Journey, customer: Customer, start: datetime, until: datetime) -> Simulated:
    channel = Recorded()
    first = journey.steps[0] if journey.steps else None
    enrollment = Enrollment(
        journey_id=journey.id, tenant_id=journey.tenant_id, customer_id=customer.customer_id,
        source={"type": "dryRun"}, first_step_id=first.id if first else None, at=start,
        first_step_name=first.name if first else None,
        id=simulated_enrollment_id(journey.id, customer.customer_id),  # type: ignore[call-arg]
    )
    now, stopped = start, None
    for _ in range(MAX_PASSES):
        try:
            advance(enrollment, journey, customer, now, channel, RetryPolicy())
        except Exception as error:  # noqa: BLE001 - as the engine sets such a pass aside
            enrollment.unrecorded = []
            enrollment.fail(enrollment.current_step_id,
                            f"set aside: {type(error).__name__}: {error}", now)
            enrollment.record()
        if not enrollment.is_active:
            break
        if enrollment.due_at > until:
            stopped = "UNTIL"
            break
        now = max(now, enrollment.due_at)
    else:
        stopped = "PASS_LIMIT"
    return Simulated(enrollment, channel.messages, stopped)


def customer_for(tenant_id: str, customer_id: str, stored: Customer | None,
                 attributes: dict[str, Any] | None, at: datetime) -> Customer:
    """A customer in memory: the stored profile's name and email, and the given attributes
    (else the stored ones); never the stored aggregate itself, which UPDATE would change."""
    return Customer.register(
        tenant_id, customer_id, at,
        name=stored.name if stored else None, email=stored.email if stored else None,
        attributes=copy.deepcopy(attributes if attributes is not None
                                 else (stored.attributes if stored else {})))


def dry_run(app: Application[str], journey: Journey,
            customers: list[tuple[str, dict[str, Any] | None]], start: datetime,
            until: datetime) -> list[Simulated]:
    """The journey's current definition over (customerId, attributes or None) pairs; a
    definition that could not be activated is refused as activation refuses it."""
    problems = graph_problems(journey.steps, journey.trigger_type)
    if problems:
        raise Conflict(f"the journey cannot run: {len(problems)} problem(s)", problems,
                       code="JOURNEY_INVALID")
    built = []
    for customer_id, attributes in customers:
        try:
            stored: Customer | None = app.repository.get(
                customer_id_for(journey.tenant_id, customer_id))
        except AggregateNotFoundError:
            stored = None
        built.append(customer_for(journey.tenant_id, customer_id, stored, attributes, start))
    return simulate(journey, built, start, until)
