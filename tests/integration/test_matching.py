"""Trigger matching against the write side's history, whatever the read models' lag."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.triggers import IncomingEvent
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
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(3)])
    assert system.runner.positions()["journeys"] == 0

    totals = system.scheduler.tick(T0)

    assert totals.matched == 3
    row = system.services.database.query_one(
        "SELECT total_enrolled, total_completed FROM journey_stats WHERE journey_id = ?", (journey.id,))
    assert row == {"total_enrolled": 3, "total_completed": 3}


def test_a_trigger_carries_its_customer_profile_even_when_no_journey_listens(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    system.services.triggers.ingest([IncomingEvent(
        "t", "nobody.listens", "ada", None, None, {},
        {"name": "Ada", "email": "ada@example.com", "attributes": {"tier": "Gold"}})])

    system.scheduler.tick(T0)

    row = system.services.database.query_one(
        "SELECT name, email, attributes FROM customers WHERE tenant_id = 't' AND customer_id = 'ada'")
    assert row == {"name": "Ada", "email": "ada@example.com", "attributes": '{"tier":"Gold"}'}


def test_a_new_enrollment_runs_its_due_steps_in_the_save_that_enrolls_it(
    system: System, clock: Clock
) -> None:
    """Enrolled and the first Advanced are appended together, by the matcher, at the trigger's
    instant; the scheduler has nothing left to claim for them."""
    clock.now = T0
    app = system.services.app
    journey = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey
    app.add_step(journey.id, "SEND", "hi", {"channel": "EMAIL", "templateId": "hi"})
    app.add_step(journey.id, "WAIT", "a day", {"duration": "1 day"})
    app.add_step(journey.id, "END", "done")
    app.activate(journey.id)
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(3)])

    totals = system.scheduler.tick(T0)

    assert (totals.matched, totals.enrolled, totals.processed, totals.messages) == (3, 3, 3, 3)
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    rows = system.services.database.query(
        f"SELECT originator_id, originator_version, topic FROM {table} "
        "WHERE originator_id LIKE ? ORDER BY originator_id, originator_version", ("enrollment_%",))
    assert [(r["originator_version"], r["topic"].split(".")[-1]) for r in rows] == [
        (1, "Enrolled"), (2, "Advanced")] * 3
    due = system.services.database.query("SELECT kind, due_at FROM due_work")
    assert due == [{"kind": "wait", "due_at": "2025-12-15T09:00:00.000Z"}] * 3


def test_the_scheduler_batch_bounds_what_one_save_enrolls(system: System, clock: Clock) -> None:
    clock.now = T0
    app = system.services.app
    system.scheduler.matcher.batch_size = 2
    journey = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey
    app.add_step(journey.id, "END", "done")
    app.activate(journey.id)
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(5)])
    system.runner.catch_up()

    first = system.scheduler.matcher.run_once(T0)

    assert (first[0], first[1].enrolled, first[1].ended) == (2, 2, 2)


def test_matching_a_batch_again_after_its_enrollments_ended_enrolls_no_one(
    system: System, clock: Clock
) -> None:
    """A matcher that crashed after its save but before moving its position reads the same
    triggers again; with re-entry allowed and the enrollments already over, the slots would
    let them in, but each trigger's enrollment exists already."""
    clock.now = T0
    app = system.services.app
    journey = app.create_journey(tenant_id="t", name="j", trigger_type="go",
                                 allow_reentry=True).journey
    app.add_step(journey.id, "END", "done")
    app.activate(journey.id)
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(3)])
    system.runner.catch_up()
    triggers = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(
        start=1, limit=100, topics=["domain.trigger_event:TriggerEvent.Received"])]

    first = system.services.triggers.match(triggers, T0)
    again = system.services.triggers.match(triggers, T0)

    assert (first.enrolled, first.ended) == (3, 3)
    assert (again.enrolled, again.ended) == (0, 0)
