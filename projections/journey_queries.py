"""Queries on the journeys read model: rows named as the Journey aggregate names its
values, with the enrollment counters of the enrollments read model beside them."""

from __future__ import annotations

from typing import Any

from domain.errors import Problem
from domain.graph import graph_problems, graph_warnings
from domain.steps import Step
from projections.enrollment_batch import JOURNEY_STAT_COLUMNS as COUNTERS
from projections.journeys import load_steps
from storage.database import Database, Row
from storage.values import from_json

# A journey with its enrollment counters. The journey's columns are named: a database made
# before the counters moved (`decisions/0029`) may still have columns of those names.
_JOURNEYS = (
    "SELECT j.id, j.tenant_id, j.name, j.description, j.status, j.trigger_type, "
    "j.trigger_config, j.allow_reentry, j.timezone, j.created_by, j.steps_count, "
    "j.activated_at, j.paused_at, j.resumed_at, j.archived_at, j.created_at, j.updated_at, "
    + ", ".join(f"COALESCE(s.{c}, 0) AS {c}" for c in COUNTERS)
    + " FROM journeys j LEFT JOIN journey_stats s ON s.journey_id = j.id "
)


def _journey(row: Row) -> Row:
    return {**row, "trigger_config": from_json(row["trigger_config"]),
            "allow_reentry": bool(row["allow_reentry"])}


def list_journeys(
    database: Database, tenant_id: str, status: str | None, trigger_type: str | None
) -> list[Row]:
    statement = _JOURNEYS + "WHERE j.tenant_id = ?"
    params: list[Any] = [tenant_id]
    if status:
        statement += " AND j.status = ?"
        params.append(status)
    if trigger_type:
        statement += " AND j.trigger_type = ?"
        params.append(trigger_type)
    statement += " ORDER BY j.created_position"
    return [_journey(row) for row in database.query(statement, params)]


def get_journey(database: Database, journey_id: str, tenant_id: str | None = None) -> Row | None:
    """The journey with its counters; None if unknown, or of another tenant than `tenant_id`."""
    row = database.query_one(_JOURNEYS + "WHERE j.id = ?", (journey_id,))
    if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
        return None
    return _journey(row)


def journey_steps(database: Database, journey_id: str) -> list[Step]:
    """The journey's steps in order, with their declared successors."""
    with database.reading() as cursor:
        return load_steps(cursor, journey_id)


def journey_counters(database: Database, journey_id: str) -> Row:
    """The enrollment counters of one journey, as the enrollments read model has them (0
    before its first enrollment)."""
    row = database.query_one(
        f"SELECT {', '.join(COUNTERS)} FROM journey_stats WHERE journey_id = ?", (journey_id,))
    return {name: int(row[name]) if row else 0 for name in COUNTERS}


def journey_problems(database: Database, journey_id: str, trigger_type: str) -> list[Problem]:
    """What would stop the journey's current step graph from being activated."""
    return graph_problems(journey_steps(database, journey_id), trigger_type)


def journey_warnings(database: Database, journey_id: str) -> list[Problem]:
    """What is allowed in the journey's step graph but likely not meant."""
    return graph_warnings(journey_steps(database, journey_id))


class TriggeredJourneys:
    """The journeys read model as trigger matching asks it (`domain.ports`)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def journeys_triggered_by(self, tenant_id: str, event_type: str) -> list[str]:
        rows = self.database.query(
            "SELECT id FROM journeys WHERE tenant_id = ? AND trigger_type = ? "
            "AND status = 'ACTIVE' ORDER BY created_position",
            (tenant_id, event_type),
        )
        return [row["id"] for row in rows]


def journeys_of_type(database: Database, tenant_id: str, event_type: str) -> dict[str, int]:
    """The tenant's journeys whose triggerType is `event_type`, in any status: id -> the
    log position of its creation, in that order."""
    rows = database.query(
        "SELECT id, created_position FROM journeys WHERE tenant_id = ? AND trigger_type = ? "
        "ORDER BY created_position", (tenant_id, event_type))
    return {row["id"]: int(row["created_position"]) for row in rows}
