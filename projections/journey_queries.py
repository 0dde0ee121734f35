"""Queries on the journeys read model, answering in the contract's shapes."""

from __future__ import annotations

from typing import Any

from domain.errors import Problem
from domain.graph import graph_problems
from projections.database import Database, Row, from_json
from projections.enrollments import JOURNEY_STAT_COLUMNS as COUNTERS
from projections.journeys import load_steps

# A journey with its enrollment counters, which the enrollments read model keeps. The
# journey's columns are named: a database made before the counters moved (`decisions/0029`)
# may still have columns of those names in `journeys`.
_JOURNEYS = (
    "SELECT j.id, j.tenant_id, j.name, j.description, j.status, j.trigger_type, "
    "j.trigger_config, j.allow_reentry, j.timezone, j.created_by, j.steps_count, "
    "j.activated_at, j.paused_at, j.resumed_at, j.archived_at, j.created_at, j.updated_at, "
    + ", ".join(f"COALESCE(s.{c}, 0) AS {c}" for c in COUNTERS)
    + " FROM journeys j LEFT JOIN journey_stats s ON s.journey_id = j.id "
)


def journey_document(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "tenantId": row["tenant_id"],
        "name": row["name"],
        "description": row["description"],
        "status": row["status"],
        "triggerType": row["trigger_type"],
        "triggerConfig": from_json(row["trigger_config"]),
        "allowReentry": bool(row["allow_reentry"]),
        "timezone": row["timezone"],
        "stepsCount": row["steps_count"],
        "totalEnrolled": row["total_enrolled"],
        "totalCompleted": row["total_completed"],
        "totalExited": row["total_exited"],
        "totalFailed": row["total_failed"],
        "activeEnrollments": row["active_enrollments"],
        "activatedAt": row["activated_at"],
        "pausedAt": row["paused_at"],
        "resumedAt": row["resumed_at"],
        "archivedAt": row["archived_at"],
        "createdBy": row["created_by"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def step_document(row: Row) -> dict[str, Any]:
    document = {
        "id": row["id"],
        "stepNumber": row["step_number"],
        "type": row["type"],
        "name": row["name"],
        "config": from_json(row["config"]),
        "nextStepId": row["next_step_id"],
    }
    if row["type"] == "CONDITION":
        document["nextStepYesId"] = row["next_step_yes_id"]
        document["nextStepNoId"] = row["next_step_no_id"]
    return document


def list_journeys(
    database: Database, tenant_id: str, status: str | None, trigger_type: str | None
) -> list[dict[str, Any]]:
    statement = _JOURNEYS + "WHERE j.tenant_id = ?"
    params: list[Any] = [tenant_id]
    if status:
        statement += " AND j.status = ?"
        params.append(status)
    if trigger_type:
        statement += " AND j.trigger_type = ?"
        params.append(trigger_type)
    statement += " ORDER BY j.created_position"
    return [journey_document(row) for row in database.query(statement, params)]


def get_journey(
    database: Database, journey_id: str, tenant_id: str | None = None
) -> dict[str, Any] | None:
    row = database.query_one(_JOURNEYS + "WHERE j.id = ?", (journey_id,))
    if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
        return None
    return journey_document(row)


def journey_steps(database: Database, journey_id: str) -> list[dict[str, Any]]:
    rows = database.query(
        "SELECT * FROM journey_steps WHERE journey_id = ? ORDER BY step_number", (journey_id,)
    )
    return [step_document(row) for row in rows]


def get_step(database: Database, journey_id: str, step_id: str) -> dict[str, Any] | None:
    row = database.query_one(
        "SELECT * FROM journey_steps WHERE journey_id = ? AND id = ?", (journey_id, step_id)
    )
    return None if row is None else step_document(row)


def journey_counters(database: Database, journey_id: str) -> Row | None:
    """The enrollment counters of one journey, as the enrollments read model has them (None
    before its first enrollment)."""
    return database.query_one(
        f"SELECT {', '.join(COUNTERS)} FROM journey_stats WHERE journey_id = ?", (journey_id,))


def journey_problems(database: Database, journey_id: str, trigger_type: str) -> list[Problem]:
    """What would stop the journey's current step graph from being activated."""
    with database.transaction(commit=False) as cursor:
        steps = load_steps(cursor, journey_id)
    return graph_problems(steps, trigger_type)
