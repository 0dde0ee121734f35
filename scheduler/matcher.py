"""Trigger matching: follows received trigger events in the log and enrolls customers.

Its position is a row in `projection_tracking` (name `trigger_matcher`), moved by
compare-and-set after each batch. A crash between saving enrollments and moving the
position replays the batch, which enrolls no one twice (see EnrollmentCommands.match).
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.utils import get_topic

from domain.application import JourneysApplication
from domain.trigger_event import TriggerEvent
from projections.database import Database

NAME = "trigger_matcher"
TOPIC = get_topic(TriggerEvent.Received)  # type: ignore[attr-defined]


class TriggerMatcher:
    def __init__(self, app: JourneysApplication, database: Database, batch_size: int = 500) -> None:
        self.app = app
        self.database = database
        self.batch_size = batch_size
        recorder = app.recorder
        assert isinstance(recorder, ApplicationRecorder)
        self.recorder = recorder
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_tracking (name, position) VALUES (?, 0) "
                "ON CONFLICT (name) DO NOTHING",
                (NAME,),
            )

    def position(self) -> int:
        row = self.database.query_one(
            "SELECT position FROM projection_tracking WHERE name = ?", (NAME,)
        )
        return int(row["position"]) if row else 0

    def run_once(self) -> int:
        """Match one batch; returns how many trigger events it read."""
        position = self.position()
        notifications = self.recorder.select_notifications(
            start=position + 1, limit=self.batch_size, topics=[TOPIC]
        )
        if not notifications:
            return 0
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        self.app.match(events)
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                (notifications[-1].id, NAME, position),
            )
        return len(notifications)
