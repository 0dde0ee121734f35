"""What the API answers, in the contract's names. A journey is rendered from the aggregate
a command answers with or from a read model's row, which name their values alike."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from domain.calendar import api_instant
from domain.customer import Customer
from domain.journey import Journey
from domain.manual_enrollment import Enrolled
from domain.steps import Step, effective_successors
from storage.database import Row

JOURNEY_FIELDS = (
    ("id", "id"), ("tenantId", "tenant_id"), ("name", "name"), ("description", "description"),
    ("status", "status"), ("triggerType", "trigger_type"), ("triggerConfig", "trigger_config"),
    ("allowReentry", "allow_reentry"), ("timezone", "timezone"), ("stepsCount", "steps_count"),
    ("createdBy", "created_by"),
)
COUNTER_FIELDS = (
    ("totalEnrolled", "total_enrolled"), ("totalCompleted", "total_completed"),
    ("totalExited", "total_exited"), ("totalFailed", "total_failed"),
    ("activeEnrollments", "active_enrollments"),
)
NO_ENROLLMENTS = {name: 0 for _, name in COUNTER_FIELDS}  # a new journey's counters
JOURNEY_INSTANTS = (
    ("activatedAt", "activated_at"), ("pausedAt", "paused_at"), ("resumedAt", "resumed_at"),
    ("archivedAt", "archived_at"), ("createdAt", "created_at"), ("updatedAt", "updated_at"),
)


def page(data: list[dict[str, Any]], total: int, skip: int, take: int) -> dict[str, Any]:
    """A page of a list, as every paged GET answers it."""
    return {"data": data, "meta": {"total": total, "skip": skip, "take": take}}


def instant(value: datetime | str | None) -> str | None:
    """An instant as the API shows it; a read model stores it so already."""
    return api_instant(value) if isinstance(value, datetime) else value


def journey_document(journey: Journey | Row, counters: Row | None = None) -> dict[str, Any]:
    """`journey`: the aggregate, its enrollment counters given apart, or a row of
    `journey_queries`, its counters in it."""
    get = journey.__getitem__ if isinstance(journey, dict) else partial(getattr, journey)
    counted = counters.__getitem__ if counters is not None else get
    return {**{api: get(name) for api, name in JOURNEY_FIELDS},
            **{api: int(counted(name) or 0) for api, name in COUNTER_FIELDS},
            **{api: instant(get(name)) for api, name in JOURNEY_INSTANTS}}


def step_document(steps: list[Step], index: int) -> dict[str, Any]:
    """steps[index] with its number and its effective successors."""
    step = steps[index]
    following, yes, no = effective_successors(steps, index)
    document = {"id": step.id, "stepNumber": index + 1, "type": step.type, "name": step.name,
                "config": step.config, "nextStepId": following}
    if step.type == "CONDITION":
        document.update(nextStepYesId=yes, nextStepNoId=no)
    return document


def steps_document(steps: list[Step]) -> list[dict[str, Any]]:
    return [step_document(steps, index) for index in range(len(steps))]


def enrolled_document(journey_id: str, enrolled: Enrolled) -> dict[str, Any]:
    enrollment = enrolled.enrollment
    return {"id": enrollment.id, "journeyId": journey_id, "customerId": enrollment.customer_id,
            "status": enrollment.status, "currentStepNumber": enrolled.step_number,
            "enrolledAt": instant(enrollment.enrolled_at)}


def enrollment_item(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "customerName": row["customer_name"],
        "customerEmail": row["customer_email"],
        "status": row["status"],
        "currentStepNumber": row["current_step_number"],
        "currentStepName": row["current_step_name"],
        "waitingUntil": row["waiting_until"],
        "enrolledAt": row["enrolled_at"],
    }


def customer_enrollment_item(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"], "journeyId": row["journey_id"], "journeyName": row["journey_name"],
        "customerId": row["customer_id"], "status": row["status"],
        "currentStepNumber": row["current_step_number"],
        "currentStepName": row["current_step_name"], "waitingUntil": row["waiting_until"],
        "enrolledAt": row["enrolled_at"], "endedAt": row["ended_at"], "reason": row["reason"],
    }


def enrollment_document(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "journeyId": row["journey_id"],
        "customerId": row["customer_id"],
        "status": row["status"],
        "currentStepNumber": row["current_step_number"],
        "waitingUntil": row["waiting_until"],
        "enrolledAt": row["enrolled_at"],
        "endedAt": row["ended_at"],
        "reason": row["reason"],
        "source": row["source"],
        "steps": [history_item(step) for step in row["steps"]],
    }


HISTORY_DECISIONS = ("branch", "variant", "messageId", "waitingUntil")


def history_item(row: Row) -> dict[str, Any]:
    outcome = row["outcome"]
    item: dict[str, Any] = {
        "stepId": row["step_id"],
        "stepName": row["step_name"],
        "stepNumber": row["step_number"],
        "status": row["status"],
        "startedAt": row["started_at"],
    }
    if row["completed_at"]:
        item["completedAt"] = row["completed_at"]
    item.update((key, outcome[key]) for key in HISTORY_DECISIONS if key in outcome)
    item["outcome"] = outcome
    return item


def step_stats_item(row: Row) -> dict[str, Any]:
    item: dict[str, Any] = {
        "stepId": row["id"], "stepNumber": row["step_number"], "name": row["name"],
        "type": row["type"],
        **{key: int(row[key]) for key in ("entered", "completed", "exited", "failed", "waiting")}}
    if row["type"] == "CONDITION":
        item["branches"] = {"yes": int(row["branch_yes"]), "no": int(row["branch_no"])}
    if row["type"] == "SPLIT":
        item["variants"] = [
            {"variant": index, "percentage": split.get("percentage"),
             "entered": row["variants"].get(index, 0)}
            for index, split in enumerate(row["config"].get("splits") or [])
        ]
    return item


def series_item(row: Row) -> dict[str, Any]:
    return {"start": row["start"], "enrolled": row["enrolled"], "completed": row["completed"],
            "exited": row["exited"], "failed": row["failed"],
            "messagesSent": row["messages_sent"], "messagesFailed": row["messages_failed"]}


def message_item(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "enrollmentId": row["enrollment_id"],
            "customerId": row["customer_id"], "stepId": row["step_id"],
            "channel": row["channel"], "templateId": row["template_id"],
            "status": row["status"], "attempts": int(row["attempts"]),
            "lastError": row["last_error"], "requestedAt": row["requested_at"],
            "deliveredAt": row["delivered_at"], "updatedAt": row["updated_at"]}


def customer_document(customer: Customer | Row) -> dict[str, Any]:
    """`customer`: the aggregate a command answers with, or a row of the read model."""
    get = customer.__getitem__ if isinstance(customer, dict) else partial(getattr, customer)
    return {
        "customerId": get("customer_id"),
        "tenantId": get("tenant_id"),
        "name": get("name"),
        "email": get("email"),
        "attributes": get("attributes"),
        "createdAt": instant(get("created_at")),
        "updatedAt": instant(get("updated_at")),
    }


def trigger_event_document(found: Row) -> dict[str, Any]:
    return {
        "eventId": found["event_id"], "tenantId": found["tenant_id"], "type": found["type"],
        "customerId": found["customer_id"], "occurredAt": found["occurred_at"],
        "receivedAt": found["received_at"], "data": found["data"],
        "customer": found["customer"], "status": found["status"],
        "outcomes": [{"journeyId": o["journey_id"], "outcome": o["outcome"],
                      "enrollmentId": o.get("enrollment_id"), "values": o.get("values")}
                     for o in found["outcomes"]],
    }
