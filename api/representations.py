"""Command responses, rendered from the write side in the same shapes as the read models."""

from __future__ import annotations

from typing import Any

from domain.journey import Journey
from projections.database import Row, iso, to_json
from projections.enrollments import JOURNEY_STAT_COLUMNS
from projections.journey_queries import journey_document, step_document
from projections.journeys import step_row


def journey_from_aggregate(journey: Journey, counters: Row | None = None) -> dict[str, Any]:
    row: Row = {
        "id": journey.id,
        "tenant_id": journey.tenant_id,
        "name": journey.name,
        "description": journey.description,
        "status": journey.status,
        "trigger_type": journey.trigger_type,
        "trigger_config": to_json(journey.trigger_config),
        "allow_reentry": journey.allow_reentry,
        "timezone": journey.timezone,
        "steps_count": len(journey.steps),
        "activated_at": iso(journey.activated_at),
        "paused_at": iso(journey.paused_at),
        "resumed_at": iso(journey.resumed_at),
        "archived_at": iso(journey.archived_at),
        "created_by": journey.created_by,
        "created_at": iso(journey.created_at),
        "updated_at": iso(journey.updated_at),
    }
    row.update({name: int((counters or {}).get(name) or 0) for name in JOURNEY_STAT_COLUMNS})
    return journey_document(row)


def step_from_aggregate(journey: Journey, step_id: str) -> dict[str, Any]:
    index = [s.id for s in journey.steps].index(step_id)
    return step_document(step_row(journey.id, journey.steps, index))


def steps_from_aggregate(journey: Journey) -> list[dict[str, Any]]:
    return [step_from_aggregate(journey, step.id) for step in journey.steps]
