"""Why a trigger event enrolled nobody in a journey of its type: recorded when the matcher
met such a journey, one aggregate per trigger event (its id derived from the event's), so
an auditor can ask of any event what it did. An enrollment needs no such record: its id
derives from the journey and the trigger event, and its source holds what the trigger's
conditions read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from domain.aggregate import StrAggregate
from domain.ids import stable_id

ENROLLED = "ENROLLED"
CONDITIONS_NOT_MET = "CONDITIONS_NOT_MET"
JOURNEY_NOT_ACTIVE = "JOURNEY_NOT_ACTIVE"


def outcomes_id_for(trigger_event_id: str) -> str:
    return stable_id("outcomes", trigger_event_id)


class TriggerOutcomes(StrAggregate):
    id: str

    @event("Recorded")
    def __init__(self, trigger_event_id: str, outcomes: list[dict[str, Any]],
                 at: datetime) -> None:
        """`outcomes`: per journey that did not enroll, `{"journey_id", "outcome"}`, and
        `values` for CONDITIONS_NOT_MET (what the conditions read)."""
        self.trigger_event_id = trigger_event_id
        self.outcomes = outcomes

    @classmethod
    def record(cls, trigger_event_id: str, outcomes: list[dict[str, Any]],
               at: datetime) -> TriggerOutcomes:
        return cls(trigger_event_id=trigger_event_id, outcomes=outcomes, at=at,
                   id=outcomes_id_for(trigger_event_id))  # type: ignore[call-arg]
