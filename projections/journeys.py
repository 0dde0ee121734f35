"""The journeys read model: `journeys` (list and detail) and `journey_steps`. Their
enrollment counters are the enrollments read model's (`journey_stats`)."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic

from domain.journey import Journey
from domain.steps import Step, effective_successors
from projections.projection import Projection
from storage.database import Cursor, Dialect, Row
from storage.values import from_json, iso, to_json

JOURNEY_COLUMNS = {
    "name": "name",
    "description": "description",
    "trigger_type": "trigger_type",
    "trigger_config": "trigger_config",
    "allow_reentry": "allow_reentry",
    "timezone": "timezone",
}
LIFECYCLE = {
    Journey.Activated: ("ACTIVE", "activated_at"),  # type: ignore[attr-defined]
    Journey.Paused: ("PAUSED", "paused_at"),  # type: ignore[attr-defined]
    Journey.Resumed: ("ACTIVE", "resumed_at"),  # type: ignore[attr-defined]
    Journey.Archived: ("ARCHIVED", "archived_at"),  # type: ignore[attr-defined]
}


class JourneysProjection(Projection):
    name = "journeys"
    tables = ("journey_steps", "journeys")
    topics = frozenset(
        get_topic(getattr(Journey, n))
        for n in (
            "Created",
            "DetailsUpdated",
            "Activated",
            "Paused",
            "Resumed",
            "Archived",
            "Deleted",
            "StepAdded",
            "StepUpdated",
            "StepRemoved",
            "StepsReordered",
        )
    )

    def create_statements(self, dialect: Dialect) -> list[str]:
        boolean = "BOOLEAN" if dialect == "postgres" else "INTEGER"
        return [
            "CREATE TABLE IF NOT EXISTS journeys ("
            "id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, "
            "description TEXT, status TEXT NOT NULL, trigger_type TEXT NOT NULL, "
            "trigger_config TEXT NOT NULL, "
            f"allow_reentry {boolean} NOT NULL, timezone TEXT NOT NULL, created_by TEXT, "
            "steps_count INTEGER NOT NULL DEFAULT 0, "
            "activated_at TEXT, paused_at TEXT, resumed_at TEXT, archived_at TEXT, "
            "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
            "version BIGINT NOT NULL, position BIGINT NOT NULL, created_position BIGINT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS journeys_by_tenant "
            "ON journeys (tenant_id, created_position)",
            "CREATE INDEX IF NOT EXISTS journeys_by_trigger "
            "ON journeys (tenant_id, trigger_type, status)",
            "CREATE TABLE IF NOT EXISTS journey_steps ("
            "id TEXT PRIMARY KEY, journey_id TEXT NOT NULL, step_number INTEGER NOT NULL, "
            "type TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL, "
            "next_step_id TEXT, next_step_yes_id TEXT, next_step_no_id TEXT, "
            "declared_next_step_id TEXT, declared_next_step_yes_id TEXT, "
            "declared_next_step_no_id TEXT)",
            "CREATE INDEX IF NOT EXISTS journey_steps_by_journey "
            "ON journey_steps (journey_id, step_number)",
        ]

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        journey_id = event.originator_id
        if isinstance(event, Journey.Created):
            self._created(cursor, event, position)
            return
        if isinstance(event, Journey.Deleted):  # type: ignore[attr-defined]
            cursor.execute("DELETE FROM journey_steps WHERE journey_id = ?", (journey_id,))
            cursor.execute("DELETE FROM journeys WHERE id = ?", (journey_id,))
            return
        columns: dict[str, Any] = {}
        if isinstance(event, Journey.DetailsUpdated):  # type: ignore[attr-defined]
            for key, value in event.changes.items():
                columns[JOURNEY_COLUMNS[key]] = to_json(value) if key == "trigger_config" else value
        elif type(event) in LIFECYCLE:
            status, stamp = LIFECYCLE[type(event)]
            columns.update(status=status, **{stamp: iso(event.at)})
        else:
            columns["steps_count"] = self._apply_step_change(cursor, journey_id, event)
        columns.update(updated_at=iso(event.at), version=event.originator_version, position=position)
        assignments = ", ".join(f"{column} = ?" for column in columns)
        cursor.execute(
            f"UPDATE journeys SET {assignments} WHERE id = ?", [*columns.values(), journey_id]
        )

    @staticmethod
    def _created(cursor: Cursor, event: Any, position: int) -> None:
        cursor.execute(
            "INSERT INTO journeys (id, tenant_id, name, description, status, trigger_type, "
            "trigger_config, allow_reentry, timezone, created_by, created_at, updated_at, "
            "version, position, created_position) "
            "VALUES (?, ?, ?, ?, 'DRAFT', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.originator_id,
                event.tenant_id,
                event.name,
                event.description,
                event.trigger_type,
                to_json(event.trigger_config),
                event.allow_reentry,
                event.timezone,
                event.created_by,
                iso(event.at),
                iso(event.at),
                event.originator_version,
                position,
                position,
            ),
        )

    def _apply_step_change(self, cursor: Cursor, journey_id: str, event: Any) -> int:
        steps = load_steps(cursor, journey_id)
        if isinstance(event, Journey.StepAdded):  # type: ignore[attr-defined]
            steps.insert(event.position, Step.from_dict(event.step))
        elif isinstance(event, Journey.StepUpdated):  # type: ignore[attr-defined]
            steps = [s.with_changes(event.changes) if s.id == event.step_id else s for s in steps]
        elif isinstance(event, Journey.StepRemoved):  # type: ignore[attr-defined]
            steps = [s for s in steps if s.id != event.step_id]
        elif isinstance(event, Journey.StepsReordered):  # type: ignore[attr-defined]
            by_id = {s.id: s for s in steps}
            steps = [by_id[i] for i in event.step_ids]
        cursor.execute("DELETE FROM journey_steps WHERE journey_id = ?", (journey_id,))
        rows = [step_row(journey_id, steps, index) for index in range(len(steps))]
        cursor.executemany(
            f"INSERT INTO journey_steps ({', '.join(STEP_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in STEP_COLUMNS)})",
            [[row[column] for column in STEP_COLUMNS] for row in rows],
        )
        return len(steps)


STEP_COLUMNS = (
    "id",
    "journey_id",
    "step_number",
    "type",
    "name",
    "config",
    "next_step_id",
    "next_step_yes_id",
    "next_step_no_id",
    "declared_next_step_id",
    "declared_next_step_yes_id",
    "declared_next_step_no_id",
)


def step_row(journey_id: str, steps: list[Step], index: int) -> Row:
    """The journey_steps row of steps[index]: effective successors beside the declared ones."""
    step = steps[index]
    following, yes, no = effective_successors(steps, index)
    return dict(
        zip(
            STEP_COLUMNS,
            (
                step.id,
                journey_id,
                index + 1,
                step.type,
                step.name,
                to_json(step.config),
                following,
                yes,
                no,
                step.next_step_id,
                step.next_step_yes_id,
                step.next_step_no_id,
            ),
            strict=True,
        )
    )


def load_steps(cursor: Cursor, journey_id: str) -> list[Step]:
    rows = cursor.execute(
        "SELECT * FROM journey_steps WHERE journey_id = ? ORDER BY step_number", (journey_id,)
    ).fetchall()
    return [
        Step(
            id=row["id"],
            type=row["type"],
            name=row["name"],
            config=from_json(row["config"]),
            next_step_id=row["declared_next_step_id"],
            next_step_yes_id=row["declared_next_step_yes_id"],
            next_step_no_id=row["declared_next_step_no_id"],
        )
        for row in rows
    ]
