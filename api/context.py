"""What the resources are given: the command side, the read models and the consistency wait."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from api.coalescing import Coalescer
from domain.application import JourneysApplication
from domain.enrolling import ManualEnrollment
from domain.enrollment import Enrollment
from domain.journey import Journey
from projections.database import Database
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class Services:
    app: JourneysApplication
    database: Database
    runner: ProjectionRunner
    consistency_timeout: float = 10.0
    # Manual enrollments arriving together are saved together (`decisions/0020`).
    enroll: Coalescer[ManualEnrollment, tuple[Enrollment, Journey, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.enroll = Coalescer(self.app.enroll_many, name="enroll")

    def settle(self, position: int) -> None:
        """Wait until the read models show `position`, so a GET after this command sees it."""
        if position and not self.runner.wait_for(position, self.consistency_timeout):
            log.warning("read models did not reach position %s within %.1fs",
                        position, self.consistency_timeout)
