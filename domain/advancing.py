"""Advancing enrollments: every step due at an instant runs, for many enrollments saved in
one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError

from domain.customer import Customer
from domain.delivery import Channel, RetryPolicy
from domain.engine import Progress, advance
from domain.enrollment import Enrollment
from domain.ids import customer_id_for
from domain.journey import Journey
from domain.loading import Loaded
from domain.ports import AggregateLoader


@dataclass
class Processed:
    """What a pass of the engine did (and, for trigger matching, how many it enrolled)."""

    enrolled: int = 0
    enrollments: int = 0
    ended: int = 0
    messages: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    position: int = 0
    # What could not be handled, and why: (aggregate id, reason). An enrollment set aside
    # is FAILED with that reason; a trigger event set aside enrolled no one.
    set_aside: list[tuple[str, str]] = field(default_factory=list)

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
        self.set_aside += other.set_aside


class Advancing:
    def __init__(self, app: Application[str], loader: AggregateLoader, channel: Channel,
                 retry: RetryPolicy) -> None:
        self.app = app
        self.loader = loader
        self.channel = channel
        self.retry = retry

    def process(self, enrollment_ids: Sequence[str], now: datetime) -> Processed:
        """Run every due step of these enrollments at `now`, saving them in one transaction.

        If another process saved one of them meanwhile, each is retried on its own."""
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
        loaded = Loaded(self.app, self.loader)
        loaded.preload(enrollment_ids)
        enrollments = [e for e in (loaded.loaded.get(i) for i in enrollment_ids) if e is not None]
        loaded.preload([customer_id_for(e.tenant_id, e.customer_id)  # type: ignore[attr-defined]
                        for e in enrollments])
        started = []
        for enrollment_id in enrollment_ids:
            enrollment: Enrollment | None = loaded.get(enrollment_id)
            if enrollment is None or not enrollment.is_active:
                continue
            started.append((enrollment, loaded.get(enrollment.journey_id),
                            loaded.get(customer_id_for(enrollment.tenant_id, enrollment.customer_id))))
        result = self.passes(loaded, started, now)
        result.position = loaded.save()
        return result

    def passes(self, loaded: Loaded, enrollments: list[tuple[Enrollment, Journey, Customer]],
               now: datetime) -> Processed:
        """One pass of each enrollment at `now`; what changed is added to `loaded`.

        A pass that fails (a journey's data the engine cannot run, a bug) is undone and
        its enrollment set aside: FAILED, with the error as its reason. The others go on."""
        result = Processed()
        for enrollment, journey, customer in enrollments:
            before = _Before(enrollment, customer)
            try:
                progress = advance(enrollment, journey, customer, now, self.channel, self.retry)
            except Exception as error:  # noqa: BLE001 - recorded as the enrollment's failure
                reason = f"set aside: {type(error).__name__}: {error}"
                before.restore()
                enrollment.fail(enrollment.current_step_id, reason, now)
                enrollment.record()
                loaded.add(enrollment)
                result.set_aside.append((enrollment.id, reason))
                result.changed.add(enrollment.id)
                result.ended += 1
                continue
            if not progress.changed:
                continue
            loaded.add(enrollment)
            result.count(enrollment.id, progress)
            if progress.customer_changed:
                loaded.add(customer)
        return result


class _Before:
    """An enrollment and its customer as they were before a pass, to undo a pass that
    failed half-way: what it noted, and what it did to the customer."""

    def __init__(self, enrollment: Enrollment, customer: Customer) -> None:
        self.enrollment, self.customer = enrollment, customer
        self.enrollment_state = dict(enrollment.__dict__)
        self.customer_state = dict(customer.__dict__)
        self.customer_events = len(customer.pending_events)

    def restore(self) -> None:
        self.enrollment.__dict__.update(self.enrollment_state)
        self.enrollment.unrecorded = []
        del self.customer.pending_events[self.customer_events:]
        self.customer.__dict__.update(self.customer_state)
