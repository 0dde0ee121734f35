"""Planner statistics of the event table and the read models, kept fresh where nothing
else keeps them (`decisions/0013`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from eventsourcing.persistence import PersistenceError

from storage.database import Database

log = logging.getLogger(__name__)
EVERY = 10.0  # seconds between checks


class PlannerStatistics:
    def __init__(self, database: Database, tables: Sequence[str]) -> None:
        self.database = database
        self.tables = list(tables)
        self._checked = -EVERY

    def keep(self) -> list[str]:
        """At most every EVERY seconds: ANALYZE the tables whose statistics went stale
        (`Database.analyze_stale`); returns them. A failure is logged and never stops the
        work: statistics only make plans better."""
        now = time.monotonic()
        if now - self._checked < EVERY:
            return []
        self._checked = now
        try:
            analyzed = self.database.analyze_stale(self.tables)
        except PersistenceError:
            log.exception("could not bring planner statistics up to date")
            return []
        if analyzed:
            log.info("analyzed %s", ", ".join(analyzed))
        return analyzed
