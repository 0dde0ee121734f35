"""The engine as real processes: `tick` beside `serve` on SQLite, and a scheduler killed
with SIGKILL mid-batch on PostgreSQL, replaced by another that finishes the work."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from domain.triggers import IncomingEvent
from journeys.wiring import build_system
from scheduler.channels import LogChannel
from tests.conftest import reset_postgres
from tests.e2e.processes import JOURNEYS, Process, free_port, journeys, wait_healthy
from tests.integration.test_delivery import Receiver

pytestmark = pytest.mark.e2e


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def test_tick_runs_due_work_beside_a_running_serve(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'journeys.db'}"
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database", database,
                    log=tmp_path / "serve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        with httpx.Client(base_url=base, timeout=15) as http:
            jid = http.post("/journeys", json={"tenantId": "t", "name": "j",
                                               "triggerType": "signup"}).json()["id"]
            for step in ({"type": "SEND", "name": "Hi",
                          "config": {"channel": "EMAIL", "templateId": "hi"}},
                         {"type": "WAIT", "name": "A day", "config": {"duration": "1 day"}},
                         {"type": "END", "name": "Done"}):
                assert http.post(f"/journeys/{jid}/steps", json=step).status_code == 201
            assert http.post(f"/journeys/{jid}/activate").status_code == 200
            started = datetime.now(UTC)
            accepted = http.post("/events/batch", json={"events": [
                {"tenantId": "t", "type": "signup", "customerId": f"c{n}"} for n in range(20)]})
            assert accepted.status_code == 202

            first = journeys("tick", "--now", iso(started + timedelta(seconds=5)),
                             "--database", database)
            assert first.returncode == 0, first.stderr
            page = http.get(f"/journeys/{jid}/enrollments", params={"take": 100}).json()
            assert page["meta"]["total"] == 20
            assert {e["currentStepName"] for e in page["data"]} == {"A day"}

            second = journeys("tick", "--now", iso(started + timedelta(days=2)),
                              "--database", database)
            assert second.returncode == 0, second.stderr
            assert "advanced 20 enrollments" in second.stdout
            journey = http.get(f"/journeys/{jid}").json()
            assert (journey["totalCompleted"], journey["activeEnrollments"]) == (20, 0)
    finally:
        assert serve.stop() == 0, serve.log()


def test_tick_refuses_an_instant_without_a_time_zone(tmp_path: Path) -> None:
    result = journeys("tick", "--now", "2025-01-01T00:00:00", "--database",
                      f"sqlite:///{tmp_path / 'j.db'}")

    assert result.returncode == 2
    assert "time zone" in result.stderr


def test_tick_refuses_a_batch_size_out_of_range(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'j.db'}"
    flag = journeys("tick", "--now", "2025-01-01T00:00:00Z", "--batch-size", "0",
                    "--database", database)
    env = journeys("tick", "--now", "2025-01-01T00:00:00Z", "--database", database,
                   env={"JOURNEYS_BATCH_SIZE": "lots"})

    assert flag.returncode == 2 and "--batch-size" in flag.stderr
    assert env.returncode == 2 and "batch size" in env.stderr


def test_a_scheduler_killed_mid_batch_loses_nothing_and_repeats_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    reset_postgres(postgres_url)
    receiver = Receiver()
    customers = 1500
    system = build_system(postgres_url, channel=LogChannel())
    app = system.services.app
    journey = app.create_journey(tenant_id="t", name="crash", trigger_type="go").journey
    for name in ("first", "second"):
        app.add_step(journey.id, "SEND", name, {"channel": "EMAIL", "templateId": name})
    app.add_step(journey.id, "END", "done")
    app.activate(journey.id)
    system.runner.catch_up()
    for start in range(0, customers, 500):
        system.services.triggers.ingest([IncomingEvent("t", "go", f"c{n}", None, None, {}, None)
                    for n in range(start, start + 500)])
    env = {**os.environ, "JOURNEYS_CHANNEL": "webhook", "JOURNEYS_WEBHOOK_URL": receiver.url,
           "JOURNEYS_WEBHOOK_SECRET": "whsec_c2VjcmV0IG9mIHRoZSByZWNlaXZlcg==",
           "JOURNEYS_CLAIM_LEASE_SECONDS": "2",
           "PYTHONUNBUFFERED": "1"}
    try:
        with (tmp_path / "first.log").open("w") as log:
            first = subprocess.Popen([JOURNEYS, "scheduler", "--database", postgres_url,
                                      "--interval", "0.2"], stdout=log, stderr=subprocess.STDOUT,
                                     env=env)
            deadline = time.monotonic() + 120
            while len(receiver.requests) < 500 and time.monotonic() < deadline:
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        handed_before_kill = len(receiver.requests)
        assert 0 < handed_before_kill < 2 * customers, "killed in the middle of the work"

        with (tmp_path / "second.log").open("w") as log:
            second_popen = subprocess.Popen([JOURNEYS, "scheduler", "--database", postgres_url,
                                             "--interval", "0.2"], stdout=log,
                                            stderr=subprocess.STDOUT, env=env)
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                system.runner.catch_up()
                row = system.services.database.query_one(
                    "SELECT total_completed FROM journey_stats WHERE journey_id = ?", (journey.id,))
                if row and row["total_completed"] == customers:
                    break
                time.sleep(0.5)
            second_popen.send_signal(signal.SIGTERM)
            assert second_popen.wait(timeout=30) == 0

        system.runner.catch_up()
        counters = system.services.database.query_one(
            "SELECT total_enrolled, total_completed, active_enrollments FROM journey_stats "
            "WHERE journey_id = ?", (journey.id,))
        assert counters == {"total_enrolled": customers, "total_completed": customers,
                            "active_enrollments": 0}
        completions = Counter(
            (row["enrollment_id"], row["step_id"])
            for row in system.services.database.query(
                "SELECT enrollment_id, step_id FROM enrollment_steps WHERE status = 'COMPLETED'")
        )
        assert len(completions) == 3 * customers
        assert set(completions.values()) == {1}, "every due step ran exactly once"
        ids_per_send = Counter((r["body"]["enrollmentId"], r["body"]["stepId"], r["key"])
                               for r in receiver.requests)
        sends = {(e, s) for e, s, _ in ids_per_send}
        assert len(sends) == 2 * customers, "every message was handed over"
        assert len(ids_per_send) == 2 * customers, "one message id per send, retries reuse it"
        repeated = sum(count - 1 for count in ids_per_send.values())
        # A batch (200 enrollments, two sends each) is saved after its deliveries, so what
        # the killed batch handed over is handed over again, with the same ids; no more.
        assert 0 < repeated <= 400, f"only the killed batch is handed over again ({repeated})"
    finally:
        receiver.server.shutdown()
        app.close()


def test_a_scheduler_beside_a_projections_process_keeps_no_read_models_itself(
    tmp_path: Path, postgres_url: str
) -> None:
    """`scheduler --projections external` schedules only; `projections run` keeps the read
    models; together they move customers through a WAIT to the end."""
    reset_postgres(postgres_url)
    # Recorded 58 s ago: the waits, which start when a trigger is recorded, end 2 s from
    # now, and only due_work tells the scheduler when.
    happened = datetime.now(UTC) - timedelta(seconds=58)
    system = build_system(postgres_url, clock=lambda: happened, channel=LogChannel())
    app = system.services.app
    journey = app.create_journey(tenant_id="t", name="apart", trigger_type="go").journey
    app.add_step(journey.id, "WAIT", "a minute", {"duration": "1 minute"})
    app.add_step(journey.id, "END", "done")
    app.activate(journey.id)
    system.runner.catch_up()
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(20)])
    runner = Process("projections", "run", "--database", postgres_url, log=tmp_path / "p.log")
    scheduler = Process("scheduler", "--projections", "external", "--interval", "0.2",
                        "--database", postgres_url, log=tmp_path / "s.log")
    try:
        scheduler.wait_for_log("running scheduler_loop")
        deadline = time.monotonic() + 60
        row = None
        while time.monotonic() < deadline:
            row = system.services.database.query_one(
                "SELECT total_completed FROM journey_stats WHERE journey_id = ?", (journey.id,))
            if row and row["total_completed"] == 20:
                break
            time.sleep(0.2)
    finally:
        assert scheduler.stop() == 0, scheduler.log()
        assert runner.stop() == 0, runner.log()
        app.close()

    assert row == {"total_completed": 20}
    assert "projections_loop" not in scheduler.log()
