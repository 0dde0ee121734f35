"""What an operator asks of the read models: totals of what the engine did, the due-work
backlog."""

from __future__ import annotations

from storage.database import Database


def enrollment_totals(database: Database) -> dict[str, int]:
    """Enrollments started (`started`), and ended by status, in every journey."""
    row = database.query_one(
        "SELECT COALESCE(SUM(total_enrolled), 0) AS started, "
        "COALESCE(SUM(total_completed), 0) AS completed, "
        "COALESCE(SUM(total_exited), 0) AS exited, COALESCE(SUM(total_failed), 0) AS failed "
        "FROM journey_stats")
    assert row is not None
    return {"started": int(row["started"]), "COMPLETED": int(row["completed"]),
            "EXITED": int(row["exited"]), "FAILED": int(row["failed"])}


def steps_entered(database: Database) -> dict[str, int]:
    """Steps entered, by step type, in every journey."""
    rows = database.query(
        "SELECT s.type, COALESCE(SUM(t.entered), 0) AS entered FROM step_stats t "
        "JOIN journey_steps s ON s.id = t.step_id GROUP BY s.type ORDER BY s.type")
    return {row["type"]: int(row["entered"]) for row in rows}


def due_backlog(database: Database, now: str) -> tuple[int, str | None]:
    """How many ACTIVE journeys' enrollments have work due at `now`, and the oldest due."""
    row = database.query_one(
        "SELECT COUNT(*) AS due, MIN(d.due_at) AS oldest FROM due_work d "
        "JOIN journeys j ON j.id = d.journey_id WHERE d.due_at <= ? AND j.status = 'ACTIVE'",
        (now,))
    assert row is not None
    return int(row["due"]), row["oldest"]
