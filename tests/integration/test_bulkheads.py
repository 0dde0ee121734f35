"""One tenant's bad data never stops anyone else: the engine, the trigger matcher and the
read models each set aside what they cannot handle, say why, and go on with the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.enrollment import Enrollment
from domain.triggers import IncomingEvent
from journeys.wiring import System
from projections.tracking import failures
from tests.conftest import Clock

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def journey(system: System, tenant: str) -> str:
    app = system.services.app
    jid = app.create_journey(tenant_id=tenant, name="j", trigger_type="go").journey.id
    app.add_step(jid, "WAIT", "wait", {"duration": "1 hour"})
    app.add_step(jid, "END", "done")
    app.activate(jid)
    return jid


def poison(system: System, jid: str, duration: str) -> None:
    """What an older version let through: a WAIT the calendar cannot hold, in a journey
    already live (today the edit is refused)."""
    app = system.services.app
    live = app.journey(jid)
    step = live.steps[0]
    live._step_updated(step.id, {"config": {"duration": duration}}, T0)  # as stored then
    app.save(live)


def test_an_enrollment_the_engine_cannot_run_is_failed_with_its_reason_and_the_rest_go_on(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    bad, good = journey(system, "tenant_a"), journey(system, "tenant_b")
    poison(system, bad, "999999 weeks")
    system.services.triggers.ingest(
        [IncomingEvent(tenant, "go", f"c{n}", None, None, {}, None)
         for n in range(3) for tenant in ("tenant_a", "tenant_b")])

    first = system.scheduler.tick(T0)
    second = system.scheduler.tick(T0 + timedelta(hours=2))

    assert first.set_aside == 3
    rows = system.services.database.query(
        "SELECT journey_id, status, reason FROM enrollments ORDER BY journey_id")
    by_journey = {jid: [r for r in rows if r["journey_id"] == jid] for jid in (bad, good)}
    assert {r["status"] for r in by_journey[bad]} == {"FAILED"}
    assert all(r["reason"].startswith("set aside: ValueError: duration '999999 weeks'")
               for r in by_journey[bad])
    assert {r["status"] for r in by_journey[good]} == {"COMPLETED"}
    assert second.processed == 3 and second.set_aside == 0


def test_a_read_model_sets_aside_an_event_it_cannot_apply_and_applies_the_rest(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    jid = journey(system, "tenant_a")
    recorder = system.services.app.recorder
    at = {"_type_": "datetime_iso", "_data_": T0.isoformat()}
    recorder.insert_events([StoredEvent(  # the facts of an enrollment that never began
        "enrollment_" + "e" * 32, 2, get_topic(Enrollment.Advanced),  # type: ignore[attr-defined]
        json.dumps({"facts": [{"kind": "Completed", "at": at}], "at": at,
                    "timestamp": at}).encode())])
    system.services.triggers.ingest([IncomingEvent("tenant_a", "go", "c", None, None, {}, None)])

    system.scheduler.tick(T0)

    runner = system.runner
    assert set(runner.positions().values()) == {runner.head()}, "every read model went on"
    assert failures(system.services.database) == {"enrollments": 1}
    enrolled = system.services.database.query(
        "SELECT status FROM enrollments WHERE journey_id = ?", (jid,))
    assert enrolled == [{"status": "ACTIVE"}]
    failure = system.services.database.query_one(
        "SELECT projection, topic, originator_id, error FROM projection_failures "
        "WHERE projection = 'enrollments'")
    assert failure is not None and failure["originator_id"] == "enrollment_" + "e" * 32
    assert "KeyError" in failure["error"]


def test_a_trigger_event_that_cannot_be_matched_is_set_aside_and_the_rest_enroll(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    bad, good = journey(system, "tenant_a"), journey(system, "tenant_b")
    app = system.services.app
    live = app.journey(bad)
    live._details_updated({"trigger_config": {"conditions": [{"field": "x"}]}}, T0)  # no operator
    app.save(live)
    system.services.triggers.ingest(
        [IncomingEvent(tenant, "go", f"c{n}", None, None, {}, None)
         for n in range(2) for tenant in ("tenant_a", "tenant_b")])

    totals = system.scheduler.tick(T0)

    assert totals.set_aside == 2
    assert totals.enrolled == 2
    rows = system.services.database.query("SELECT journey_id FROM enrollments")
    assert {row["journey_id"] for row in rows} == {good}
    assert system.scheduler.tick(T0).matched == 0, "the matcher went past them"
