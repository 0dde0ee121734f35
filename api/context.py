"""What the resources are given: the command side, the read models and the consistency wait."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.application import JourneysApplication
from projections.database import Database
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class Services:
    app: JourneysApplication
    database: Database
    runner: ProjectionRunner
    consistency_timeout: float = 10.0

    def settle(self, position: int) -> None:
        """Wait until the read models show `position`, so a GET after this command sees it."""
        if position and not self.runner.wait_for(position, self.consistency_timeout):
            log.warning("read models did not reach position %s within %.1fs",
                        position, self.consistency_timeout)
