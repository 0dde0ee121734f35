"""Queries on the enrollments read model, answering in the contract's shapes."""

from __future__ import annotations

from typing import Any

from projections.database import Database, Row, from_json

TOTAL_BY_STATUS = {
    None: "total_enrolled",
    "ACTIVE": "active_enrollments",
    "COMPLETED": "total_completed",
    "EXITED": "total_exited",
    "FAILED": "total_failed",
}
_LIST = (
    "SELECT e.id, e.customer_id, e.status, e.waiting_until, e.enrolled_at, "
    "c.name AS customer_name, c.email AS customer_email, "
    "s.step_number AS current_step_number, s.name AS current_step_name "
    "FROM enrollments e "
    "LEFT JOIN customers c ON c.tenant_id = e.tenant_id AND c.customer_id = e.customer_id "
    "LEFT JOIN journey_steps s ON s.id = e.current_step_id "
)


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


def list_enrollments(
    database: Database, journey_id: str, status: str | None, skip: int, take: int
) -> dict[str, Any]:
    """A page in enrolledAt, id order; the total comes from the journey's counters."""
    statement = _LIST + "WHERE e.journey_id = ?"
    params: list[Any] = [journey_id]
    if status:
        statement += " AND e.status = ?"
        params.append(status)
    statement += " ORDER BY e.enrolled_at, e.id LIMIT ? OFFSET ?"
    params += [take, skip]
    rows = database.query(statement, params)
    counter = TOTAL_BY_STATUS[status]
    total_row = database.query_one(
        f"SELECT {counter} AS total FROM journey_stats WHERE journey_id = ?", (journey_id,))
    total = int(total_row["total"]) if total_row else 0
    return {"data": [enrollment_item(r) for r in rows],
            "meta": {"total": total, "skip": skip, "take": take}}


def get_enrollment(database: Database, journey_id: str, enrollment_id: str) -> dict[str, Any] | None:
    row = database.query_one(
        "SELECT e.*, s.step_number AS current_step_number FROM enrollments e "
        "LEFT JOIN journey_steps s ON s.id = e.current_step_id "
        "WHERE e.id = ? AND e.journey_id = ?",
        (enrollment_id, journey_id),
    )
    if row is None:
        return None
    steps = database.query(
        "SELECT h.*, s.name AS step_name, s.step_number FROM enrollment_steps h "
        "LEFT JOIN journey_steps s ON s.id = h.step_id "
        "WHERE h.enrollment_id = ? ORDER BY h.seq",
        (enrollment_id,),
    )
    document = {
        "id": row["id"],
        "journeyId": row["journey_id"],
        "customerId": row["customer_id"],
        "status": row["status"],
        "currentStepNumber": row["current_step_number"],
        "waitingUntil": row["waiting_until"],
        "enrolledAt": row["enrolled_at"],
        "endedAt": row["ended_at"],
        "reason": row["reason"],
        "source": from_json(row["source"]),
        "steps": [history_item(step) for step in steps],
    }
    return document


def history_item(row: Row) -> dict[str, Any]:
    outcome = from_json(row["outcome"]) or {}
    item: dict[str, Any] = {
        "stepId": row["step_id"],
        "stepName": row["step_name"],
        "stepNumber": row["step_number"],
        "status": row["status"],
        "startedAt": row["started_at"],
    }
    if row["completed_at"]:
        item["completedAt"] = row["completed_at"]
    for key in ("branch", "variant", "messageId", "waitingUntil"):
        if key in outcome:
            item[key] = outcome[key]
    item["outcome"] = outcome
    return item


def journey_stats(database: Database, journey_id: str) -> list[dict[str, Any]]:
    """Per step, in step order: entered, completed, failed, waiting; branches and variants."""
    rows = database.query(
        "SELECT s.id, s.step_number, s.name, s.type, s.config, "
        "COALESCE(t.entered, 0) AS entered, COALESCE(t.completed, 0) AS completed, "
        "COALESCE(t.failed, 0) AS failed, COALESCE(t.waiting, 0) AS waiting, "
        "COALESCE(t.branch_yes, 0) AS branch_yes, COALESCE(t.branch_no, 0) AS branch_no "
        "FROM journey_steps s LEFT JOIN step_stats t "
        "ON t.journey_id = s.journey_id AND t.step_id = s.id "
        "WHERE s.journey_id = ? ORDER BY s.step_number",
        (journey_id,),
    )
    variants: dict[str, dict[int, int]] = {}
    for row in database.query(
        "SELECT step_id, variant, entered FROM step_variant_stats WHERE journey_id = ?",
        (journey_id,),
    ):
        variants.setdefault(row["step_id"], {})[int(row["variant"])] = int(row["entered"])
    result = []
    for row in rows:
        item: dict[str, Any] = {
            "stepId": row["id"],
            "stepNumber": row["step_number"],
            "name": row["name"],
            "type": row["type"],
            "entered": int(row["entered"]),
            "completed": int(row["completed"]),
            "failed": int(row["failed"]),
            "waiting": int(row["waiting"]),
        }
        if row["type"] == "CONDITION":
            item["branches"] = {"yes": int(row["branch_yes"]), "no": int(row["branch_no"])}
        if row["type"] == "SPLIT":
            splits = (from_json(row["config"]) or {}).get("splits") or []
            counts = variants.get(row["id"], {})
            item["variants"] = [
                {"variant": index, "percentage": split.get("percentage"),
                 "entered": counts.get(index, 0)}
                for index, split in enumerate(splits)
            ]
        result.append(item)
    return result
