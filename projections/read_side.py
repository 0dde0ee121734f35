"""The read side as the commands see it (domain.ports.ReadSide), answered from read models."""

from __future__ import annotations

from projections.database import Database
from projections.runner import ProjectionRunner


class ReadModels:
    def __init__(self, database: Database, runner: ProjectionRunner) -> None:
        self.database = database
        self.runner = runner

    def active_enrollment_ids(self, journey_id: str) -> list[str]:
        # Everything recorded before this call must be seen: bring the read models up to the
        # head here (safe beside other runners: batches are applied by compare-and-set).
        self.runner.catch_up()
        rows = self.database.query(
            "SELECT id FROM enrollments WHERE journey_id = ? AND status = 'ACTIVE' ORDER BY id",
            (journey_id,),
        )
        return [row["id"] for row in rows]

    def journeys_triggered_by(self, tenant_id: str, event_type: str) -> list[str]:
        rows = self.database.query(
            "SELECT id FROM journeys WHERE tenant_id = ? AND trigger_type = ? AND status = 'ACTIVE' "
            "ORDER BY created_position",
            (tenant_id, event_type),
        )
        return [row["id"] for row in rows]
