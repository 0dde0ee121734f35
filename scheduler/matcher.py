"""Trigger matching: follows received trigger events in the log and enrolls customers.

Its position is a row in `projection_tracking` (name `trigger_matcher`, made with the
schema), moved by
compare-and-set after each batch. A crash between saving enrollments and moving the
position replays the batch, which enrolls no one twice (see Triggers.match).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from eventsourcing.utils import get_topic

from domain.advancing import Processed
from domain.trigger_event import TriggerEvent
from domain.triggers import Triggers
from projections.tracking import move_tracking
from storage.database import Database
from storage.event_log import EventLog

log = logging.getLogger("journeys.matcher")
NAME = "trigger_matcher"
TOPIC = get_topic(TriggerEvent.Received)  # type: ignore[attr-defined]


class TriggerMatcher:
    """`journeys_position` says how far the journeys read model has got: a trigger is matched
    only once every journey change recorded before it is visible there."""

    def __init__(
        self,
        triggers: Triggers,
        log_: EventLog,
        journeys_position: Callable[[], int],
        batch_size: int = 500,
    ) -> None:
        self.triggers = triggers
        self.log = log_
        self.database: Database = log_.database
        self.journeys_position = journeys_position
        self.batch_size = batch_size

    def position(self) -> int:
        row = self.database.query_one(
            "SELECT position FROM projection_tracking WHERE name = ?", (NAME,)
        )
        return int(row["position"]) if row else 0

    def run_once(self, now: datetime | None = None) -> tuple[int, Processed]:
        """Match one batch; returns how many trigger events it read, and what the new
        enrollments' first passes did: given `now`, their steps due by then run in the same
        save (`JourneysApplication.match`).

        The position moves past every notification read up to the head, trigger or not, so
        the next poll never scans the engine's own events again.
        """
        position = self.position()
        head = min(self.log.head(), self.journeys_position())
        passes = Processed()
        if head <= position:
            return 0, passes
        notifications = self.log.read(position + 1, head, [TOPIC], self.batch_size)
        if notifications:
            passes = self.triggers.match([self.log.decode(n) for n in notifications], now)
        reached = notifications[-1].id if len(notifications) == self.batch_size else head
        with self.database.transaction() as cursor:
            moved = move_tracking(cursor, [NAME], position, reached)
        if not moved:
            log.info("another matcher took the triggers after %s first", position)
        return len(notifications), passes
