"""A trigger event as received and what it did, read from the log, for auditors: per
journey of its type, the enrollment it made, or why it made none."""

from __future__ import annotations

import re
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application

from domain.ids import stable_id, trigger_event_id_for
from domain.trigger_event import TriggerEvent
from domain.trigger_outcomes import ENROLLED, JOURNEY_NOT_ACTIVE, TriggerOutcomes, outcomes_id_for
from projections.journey_queries import journeys_of_type
from storage.event_log import EventLog
from storage.values import iso

MADE_ID = re.compile(r"^event_[0-9a-f]{32}$")  # an id made for an event sent without one
MATCHER = "trigger_matcher"


def _get(app: Application[str], aggregate_id: str) -> Any:
    try:
        return app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None


def find(app: Application[str], tenant_id: str, event_id: str) -> TriggerEvent | None:
    """The tenant's trigger event of that id: the client's `eventId`, or the id made for it."""
    found: TriggerEvent | None = _get(app, trigger_event_id_for(tenant_id, event_id))
    if found is None and MADE_ID.match(event_id):
        found = _get(app, event_id)
        if found is not None and found.event_id is not None:
            found = None  # a client's id is asked by the client's id
    return found if found is not None and found.tenant_id == tenant_id else None


def trigger_event(app: Application[str], log: EventLog, tenant_id: str,
                  event_id: str) -> dict[str, Any] | None:
    """The trigger event and its outcomes, in the names of the log; None if unknown.

    The matcher records what it decided against a journey (the conditions, the customer's
    slot) and the enrollments record themselves. A journey of the event's type that was
    there before the event and has neither, once the matcher has passed the event, was
    not ACTIVE when it was matched: nothing is recorded for it (`decisions/0041`)."""
    trigger = find(app, tenant_id, event_id)
    if trigger is None:
        return None
    recorded: TriggerOutcomes | None = _get(app, outcomes_id_for(trigger.id))
    outcomes = {o["journey_id"]: o for o in (recorded.outcomes if recorded else [])}
    of_type = journeys_of_type(log.database, tenant_id, trigger.event_type)
    made = {stable_id("enrollment", journey_id, trigger.id): journey_id for journey_id in of_type}
    for enrollment_id, enrollment in log.load_many(made).items():
        source = enrollment.source
        outcomes[made[enrollment_id]] = {"journey_id": made[enrollment_id], "outcome": ENROLLED,
                                         "enrollment_id": enrollment_id,
                                         "values": source.get("values", {})}
    position = log.position_of(trigger.id) or 0
    matched = bool(outcomes) or _matcher_position(log) >= position
    if matched:
        outcomes.update({journey_id: {"journey_id": journey_id, "outcome": JOURNEY_NOT_ACTIVE}
                         for journey_id, made_at in of_type.items()
                         if made_at < position and journey_id not in outcomes})
    return {"event_id": trigger.event_id or trigger.id, "tenant_id": trigger.tenant_id,
            "type": trigger.event_type, "customer_id": trigger.customer_id,
            "occurred_at": iso(trigger.occurred_at), "received_at": iso(trigger.received_at),
            "data": trigger.data, "customer": trigger.customer,
            "status": "MATCHED" if matched else "PENDING",
            "outcomes": [*(outcomes[j] for j in of_type if j in outcomes),
                         *(o for j, o in outcomes.items() if j not in of_type)]}


def _matcher_position(log: EventLog) -> int:
    row = log.database.query_one("SELECT position FROM projection_tracking WHERE name = ?",
                                 (MATCHER,))
    return int(row["position"]) if row else 0
