"""A varied history of journeys written through the commands, and the read models it makes,
for the tests of the read models themselves."""

from __future__ import annotations

from typing import Any

from api.context import Services
from storage.database import Database
from tests.conftest import Clock

TABLES = {"journeys": "id", "journey_steps": "id"}


def dump(database: Database, tables: dict[str, str] = TABLES) -> dict[str, list[dict[str, Any]]]:
    """Every row of `tables` (name -> ORDER BY key)."""
    return {table: database.query(f"SELECT * FROM {table} ORDER BY {key}")
            for table, key in tables.items()}


def write_history(services: Services, clock: Clock, journeys: int = 5) -> None:
    """Edits, steps added, moved, removed, and every lifecycle state."""
    app = services.app
    for n in range(journeys):
        journey = app.create_journey(tenant_id=f"t{n % 2}", name=f"j{n}", trigger_type="x").journey
        jid = journey.id
        clock.advance(minutes=1)
        a = app.add_step(jid, "SEND", "a", {"channel": "EMAIL", "templateId": "x"}).detail
        b = app.add_step(jid, "WAIT", "b", {"duration": "1 day"}).detail
        c = app.add_step(jid, "END", "c", after_step_id=a.id).detail
        app.reorder_steps(jid, [a.id, b.id, c.id])
        app.update_step(jid, a.id, {"name": f"renamed {n}"})
        app.update_journey(jid, {"description": f"d{n}", "timezone": "Europe/London"})
        if n % 5 == 4:
            app.remove_step(jid, b.id)
            app.delete_journey(jid)
            continue
        if n % 5 >= 1:
            app.activate(jid)
        if n % 5 >= 2:
            app.pause(jid)
        if n % 5 >= 3:
            app.archive(jid)


def index_names(database: Database) -> set[str]:
    if database.dialect == "postgres":
        rows = database.query("SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'")
    else:
        rows = database.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row["name"] for row in rows}
