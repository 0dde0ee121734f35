"""Trigger matching against the write side's history, whatever the read models' lag."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.enrolling import IncomingEvent
from journeys.wiring import System
from tests.conftest import Clock

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def test_triggers_recorded_while_no_runner_was_following_still_enroll(
    system: System, clock: Clock
) -> None:
    """Nothing projected the journey's activation before `tick`: the matcher must wait for it."""
    clock.now = T0
    app = system.services.app
    journey = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey
    app.add_step(journey.id, "END", "done")
    app.activate(journey.id)
    app.ingest([IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(3)])
    assert system.runner.positions()["journeys"] == 0

    totals = system.scheduler.tick(T0)

    assert totals.matched == 3
    row = system.services.database.query_one(
        "SELECT total_enrolled, total_completed FROM journeys WHERE id = ?", (journey.id,))
    assert row == {"total_enrolled": 3, "total_completed": 3}


def test_a_trigger_carries_its_customer_profile_even_when_no_journey_listens(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    system.services.app.ingest([IncomingEvent(
        "t", "nobody.listens", "ada", None, None, {},
        {"name": "Ada", "email": "ada@example.com", "attributes": {"tier": "Gold"}})])

    system.scheduler.tick(T0)

    row = system.services.database.query_one(
        "SELECT name, email, attributes FROM customers WHERE tenant_id = 't' AND customer_id = 'ada'")
    assert row == {"name": "Ada", "email": "ada@example.com", "attributes": '{"tier":"Gold"}'}
