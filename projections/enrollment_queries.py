"""Queries on the enrollments read model."""

from __future__ import annotations

from typing import Any

from storage.database import Database, Row
from storage.values import from_json

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


def list_enrollments(
    database: Database, journey_id: str, status: str | None, skip: int, take: int
) -> tuple[list[Row], int]:
    """A page in enrolledAt, id order, and the total (from the journey's counters)."""
    statement = _LIST + "WHERE e.journey_id = ?"
    params: list[Any] = [journey_id]
    if status:
        statement += " AND e.status = ?"
        params.append(status)
    statement += " ORDER BY e.enrolled_at, e.id LIMIT ? OFFSET ?"
    params += [take, skip]
    rows = database.query(statement, params)
    total_row = database.query_one(
        f"SELECT {TOTAL_BY_STATUS[status]} AS total FROM journey_stats WHERE journey_id = ?",
        (journey_id,))
    return rows, int(total_row["total"]) if total_row else 0


def customer_enrollments(
    database: Database, tenant_id: str, customer_id: str, skip: int, take: int
) -> tuple[list[Row], int]:
    """A page of one customer's enrollments in every journey of its tenant, newest first
    (enrolledAt, then id, descending), with their journeys' names, and the total."""
    rows = database.query(
        "SELECT e.id, e.journey_id, j.name AS journey_name, e.customer_id, e.status, "
        "e.waiting_until, e.enrolled_at, e.ended_at, e.reason, "
        "s.step_number AS current_step_number, s.name AS current_step_name "
        "FROM enrollments e LEFT JOIN journeys j ON j.id = e.journey_id "
        "LEFT JOIN journey_steps s ON s.id = e.current_step_id "
        "WHERE e.tenant_id = ? AND e.customer_id = ? "
        "ORDER BY e.enrolled_at DESC, e.id DESC LIMIT ? OFFSET ?",
        (tenant_id, customer_id, take, skip))
    total = database.query_one(
        "SELECT COUNT(*) AS total FROM enrollments WHERE tenant_id = ? AND customer_id = ?",
        (tenant_id, customer_id))
    return rows, int(total["total"]) if total else 0


def active_enrollment_ids(database: Database, journey_id: str) -> list[str]:
    """The journey's ACTIVE enrollments, as far as the read model knows."""
    rows = database.query(
        "SELECT id FROM enrollments WHERE journey_id = ? AND status = 'ACTIVE' ORDER BY id",
        (journey_id,),
    )
    return [row["id"] for row in rows]


def get_enrollment(database: Database, journey_id: str, enrollment_id: str) -> Row | None:
    """The enrollment, its `source` parsed, with its step history in `steps` (each
    step's `outcome` parsed, its name as it was when entered, its number as now)."""
    row = database.query_one(
        "SELECT e.*, s.step_number AS current_step_number FROM enrollments e "
        "LEFT JOIN journey_steps s ON s.id = e.current_step_id "
        "WHERE e.id = ? AND e.journey_id = ?",
        (enrollment_id, journey_id),
    )
    if row is None:
        return None
    steps = database.query(
        "SELECT h.enrollment_id, h.seq, h.step_id, COALESCE(h.step_name, s.name) AS step_name, "
        "h.step_type, h.status, h.started_at, h.completed_at, h.outcome, s.step_number "
        "FROM enrollment_steps h "
        "LEFT JOIN journey_steps s ON s.id = h.step_id "
        "WHERE h.enrollment_id = ? ORDER BY h.seq",
        (enrollment_id,),
    )
    return {**row, "source": from_json(row["source"]),
            "steps": [{**step, "outcome": from_json(step["outcome"]) or {}} for step in steps]}


def step_stats(database: Database, journey_id: str) -> list[Row]:
    """Per step, in step order: its counts (zero where none), its config parsed, and for a
    SPLIT the entries per variant (`variants`: variant -> entered)."""
    rows = database.query(
        "SELECT s.id, s.step_number, s.name, s.type, s.config, "
        "COALESCE(t.entered, 0) AS entered, COALESCE(t.completed, 0) AS completed, "
        "COALESCE(t.exited, 0) AS exited, COALESCE(t.failed, 0) AS failed, "
        "COALESCE(t.waiting, 0) AS waiting, "
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
    return [{**row, "config": from_json(row["config"]) or {}, "variants": variants.get(row["id"], {})}
            for row in rows]


def list_messages(
    database: Database, journey_id: str, status: str | None, skip: int, take: int
) -> tuple[list[Row], int]:
    """A page of the journey's messages in the order they were requested, and the total."""
    where = "WHERE journey_id = ?" + (" AND status = ?" if status else "")
    params: list[Any] = [journey_id, *([status] if status else [])]
    rows = database.query(
        f"SELECT * FROM messages {where} ORDER BY requested_at, id LIMIT ? OFFSET ?",
        [*params, take, skip])
    total = database.query_one(f"SELECT COUNT(*) AS total FROM messages {where}", params)
    return rows, int(total["total"]) if total else 0
