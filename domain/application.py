"""The application: each public method is one command, answered from the write side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import EnvType

from domain.delivery import Channel, RetryPolicy
from domain.enrolling import EnrollmentCommands
from domain.errors import NotFound
from domain.ids import IdFactory, is_id_of, random_id
from domain.journey import Journey, check_details
from domain.ports import NoReadSide, ReadSide
from domain.retries import until_saved
from domain.steps import Step

Clock = Callable[[], datetime]
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What a command changed, and the log position a reader must reach to see it."""

    journey: Journey
    position: int
    detail: Any = None


class JourneysApplication(EnrollmentCommands):
    name = "journeys"
    env = {"ORIGINATOR_ID_TYPE": "text", "AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        clock: Clock,
        new_id: IdFactory = random_id,
        read_side: ReadSide | None = None,
        channel: Channel | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.new_id = new_id
        self.read_side = read_side or NoReadSide()
        self.channel = channel
        self.retry = retry or RetryPolicy()

    # Queries on the write side (used by commands, never by GET endpoints) ------

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
            id=self.new_id("journey"),  # type: ignore[call-arg]  # accepted by the library's metaclass
        )
        return Outcome(journey, self._save(journey))

    def update_journey(
        self, journey_id: str, changes: dict[str, Any], tenant_id: str | None = None
    ) -> Outcome:
        return self._change(journey_id, tenant_id, lambda j: j.update_details(changes, self.clock()))

    def activate(self, journey_id: str, tenant_id: str | None = None) -> Outcome:
        return self._change(journey_id, tenant_id, lambda j: j.activate(self.clock()))

    def pause(self, journey_id: str, tenant_id: str | None = None) -> Outcome:
        return self._change(journey_id, tenant_id, lambda j: j.pause(self.clock()))

    def resume(self, journey_id: str, tenant_id: str | None = None) -> Outcome:
        return self._change(journey_id, tenant_id, lambda j: j.resume(self.clock()))

    def archive(self, journey_id: str, tenant_id: str | None = None) -> Outcome:
        """Archive, then exit every ACTIVE enrollment (JOURNEY_ARCHIVED); detail is the count.

        An enrollment the read side did not know of yet is exited by the engine when it
        next looks at it, since the journey is then ARCHIVED.
        """
        archived = self._change(journey_id, tenant_id, lambda j: j.archive(self.clock()))
        exited, position = self.exit_all(journey_id, "JOURNEY_ARCHIVED")
        return Outcome(archived.journey, max(archived.position, position), exited)

    def delete_journey(self, journey_id: str, tenant_id: str | None = None) -> Outcome:
        return self._change(journey_id, tenant_id, lambda j: j.delete(self.clock()))

    def add_step(
        self,
        journey_id: str,
        step_type: str,
        name: str,
        config: dict[str, Any] | None = None,
        successors: dict[str, str | None] | None = None,
        after_step_id: str | None = None,
        tenant_id: str | None = None,
    ) -> Outcome:
        step = Step(
            id=self.new_id("step"),
            type=step_type,
            name=name,
            config=config or {},
            **(successors or {}),
        )

        def add(journey: Journey) -> Step:
            journey.add_step(step, after_step_id, self.clock())
            return step

        return self._change(journey_id, tenant_id, add)

    def update_step(
        self,
        journey_id: str,
        step_id: str,
        changes: dict[str, Any],
        tenant_id: str | None = None,
    ) -> Outcome:
        return self._change(
            journey_id, tenant_id, lambda j: j.update_step(step_id, changes, self.clock())
        )

    def remove_step(self, journey_id: str, step_id: str, tenant_id: str | None = None) -> Outcome:
        return self._change(journey_id, tenant_id, lambda j: j.remove_step(step_id, self.clock()))

    def reorder_steps(
        self, journey_id: str, step_ids: list[str], tenant_id: str | None = None
    ) -> Outcome:
        return self._change(
            journey_id, tenant_id, lambda j: j.reorder_steps(step_ids, self.clock())
        )

    # Plumbing ------------------------------------------------------------------

    def _change(
        self, journey_id: str, tenant_id: str | None, decide: Callable[[Journey], T]
    ) -> Outcome:
        """Load, decide, save; a concurrent writer means reload and decide again."""

        def attempt() -> Outcome:
            journey = self.journey(journey_id, tenant_id)
            detail = decide(journey)
            return Outcome(journey, self._save(journey), detail)

        return until_saved(attempt, "the journey")

    def _save(self, *aggregates: Journey) -> int:
        recordings = self.save(*aggregates)
        return max((r.notification.id for r in recordings), default=0)
