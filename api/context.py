"""What the resources are given: the commands, the read models and the consistency wait."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from eventsourcing.persistence import PersistenceError

from api.access import KeyCache
from api.coalescing import Coalescer
from api.idempotency import Idempotency
from domain.api_keys import Keys
from domain.application import JourneysApplication
from domain.caller import Caller
from domain.exits import Exits
from domain.manual_enrollment import Enrolled, ManualEnrolling, ManualEnrollment
from domain.triggers import Triggers
from projections import enrollment_queries
from projections.keepers import Keepers
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
    keys: Keys
    keepers: Keepers
    consistency_timeout: float = 10.0
    # Manual enrollments arriving together are saved together (`decisions/0020`).
    enroll: Coalescer[ManualEnrollment, Enrolled] = field(init=False)
    key_cache: KeyCache = field(init=False)
    idempotency: Idempotency = field(init=False)

    def __post_init__(self) -> None:
        self.enroll = Coalescer(self.enrolling.enroll_many, name="enroll")
        self.key_cache = KeyCache(self.keys)
        self.idempotency = Idempotency(self.database, self.app.clock)

    def settle(self, position: int) -> None:
        """Wait until the read models show `position`, so a GET after this command sees it.
        The command is saved already: if the wait times out, or the database cannot be
        read meanwhile, it is answered all the same, and a warning logged."""
        if not position:
            return
        try:
            if self.waits.wait_for(position, self.consistency_timeout):
                return
            why = f"within {self.consistency_timeout:.1f}s"
        except PersistenceError as error:
            why = f"(the database could not be read: {error})"
        log.warning("read models did not reach position %s %s; %s", position, why,
                    self.keepers.describe())

    def exit_archived(self, journey_id: str, caller: Caller) -> int:
        """Exit an archived journey's ACTIVE enrollments (JOURNEY_ARCHIVED): every one the
        read models know of once they show the archive (the caller has settled it), so
        every one recorded before it; how many."""
        active = enrollment_queries.active_enrollment_ids(self.database, journey_id)
        exited, position = self.exits.exit_all(active, "JOURNEY_ARCHIVED", caller)
        self.settle(position)
        return exited
