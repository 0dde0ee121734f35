"""What the resources are given: the commands, the read models and the consistency wait."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from api.coalescing import Coalescer
from domain.application import JourneysApplication
from domain.exits import Exits
from domain.journey import Journey
from domain.manual_enrollment import Enrolled, ManualEnrolling, ManualEnrollment
from domain.triggers import Triggers
from projections import enrollment_queries
from projections.runner import ProjectionRunner
from projections.waits import ConsistencyWait
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    app: JourneysApplication
    triggers: Triggers
    enrolling: ManualEnrolling
    exits: Exits
    database: Database
    runner: ProjectionRunner
    waits: ConsistencyWait
    consistency_timeout: float = 10.0
    # Manual enrollments arriving together are saved together (`decisions/0020`).
    enroll: Coalescer[ManualEnrollment, Enrolled] = field(init=False)

    def __post_init__(self) -> None:
        self.enroll = Coalescer(self.enrolling.enroll_many, name="enroll")

    def settle(self, position: int) -> None:
        """Wait until the read models show `position`, so a GET after this command sees it."""
        if position and not self.waits.wait_for(position, self.consistency_timeout):
            log.warning("read models did not reach position %s within %.1fs",
                        position, self.consistency_timeout)

    def archive(self, journey_id: str, tenant_id: str | None) -> tuple[Journey, int]:
        """Archive the journey, then exit its ACTIVE enrollments (JOURNEY_ARCHIVED): every
        one the read models know of once they show the archive, so every one recorded
        before it. Returns the journey and how many were exited."""
        archived = self.app.archive(journey_id, tenant_id)
        self.settle(archived.position)
        active = enrollment_queries.active_enrollment_ids(self.database, journey_id)
        exited, position = self.exits.exit_all(active, "JOURNEY_ARCHIVED")
        self.settle(position)
        return archived.journey, exited
