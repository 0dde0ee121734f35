"""`journeys` as real processes: serve on SQLite, API and projections apart on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import reset_postgres
from tests.e2e.processes import Process, free_port, journeys, wait_healthy

pytestmark = pytest.mark.e2e

JOURNEY = {"tenantId": "tenant_e2e", "name": "Welcome", "triggerType": "member.created",
           "timezone": "Europe/London"}
STEPS = [
    {"type": "SEND", "name": "Hello", "config": {"channel": "EMAIL", "templateId": "hello"}},
    {"type": "WAIT", "name": "Wait", "config": {"duration": "2 days"}},
    {"type": "END", "name": "Done"},
]


def drive(http: httpx.Client) -> dict[str, Any]:
    """Create a journey with steps and activate it, checking each answer and the GET after it."""
    created = http.post("/journeys", json=JOURNEY)
    assert created.status_code == 201, created.text
    jid = created.json()["id"]
    assert http.get(f"/journeys/{jid}").json() == created.json()
    for step in STEPS:
        added = http.post(f"/journeys/{jid}/steps", json=step)
        assert added.status_code == 201, added.text
        assert http.get(f"/journeys/{jid}/steps").json()["data"][-1] == added.json()
    activated = http.post(f"/journeys/{jid}/activate")
    assert activated.status_code == 200, activated.text
    detail = http.get(f"/journeys/{jid}", params={"include": "steps"}).json()
    assert detail["status"] == "ACTIVE"
    assert detail["activatedAt"] == activated.json()["activatedAt"]
    assert [s["stepNumber"] for s in detail["steps"]] == [1, 2, 3]
    refused = http.post(f"/journeys/{jid}/activate")
    assert refused.status_code == 409
    assert refused.json()["code"] == "INVALID_STATE"
    return dict(detail)


def test_serve_runs_the_whole_service_and_the_cli_rebuilds_it(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'journeys.db'}"
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database", database,
                    log=tmp_path / "serve.log")
    try:
        serve.wait_for_log(f"listening on http://127.0.0.1:{port}")
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        with httpx.Client(base_url=base, timeout=15) as http:
            detail = drive(http)
            bad = http.post("/journeys", content=b"{not json", headers={"content-type":
                                                                         "application/json"})
            assert bad.status_code == 400
    finally:
        assert serve.stop() == 0, serve.log()
    assert "stopped" in serve.log()

    status = journeys("projections", "status", "--database", database)
    assert status.returncode == 0, status.stderr
    row = next(line.split() for line in status.stdout.splitlines() if line.startswith("journeys"))
    assert row[1] == row[2] and row[3] == "0"

    rebuilt = journeys("projections", "rebuild", "--database", database)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("rebuilt journeys, enrollments, customers, due_work")
    assert f"from {row[2]} events" in rebuilt.stdout

    port = free_port()
    again = Process("serve", "--port", str(port), "--database", database,
                    log=tmp_path / "again.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        fetched = httpx.get(f"http://127.0.0.1:{port}/journeys/{detail['id']}",
                            params={"include": "steps"}).json()
        assert fetched == detail
    finally:
        assert again.stop() == 0


def test_rebuild_refuses_an_unknown_projection(tmp_path: Path) -> None:
    result = journeys("projections", "rebuild", "nope", "--database",
                      f"sqlite:///{tmp_path / 'j.db'}")

    assert result.returncode == 2
    assert "unknown projection 'nope'" in result.stderr


def test_api_and_projection_runner_as_separate_processes_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    reset_postgres(postgres_url)
    port = free_port()
    api = Process("api", "--port", str(port), "--database", postgres_url, log=tmp_path / "api.log")
    runner = Process("projections", "run", "--database", postgres_url,
                     log=tmp_path / "runner.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        runner.wait_for_log("running")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as http:
            drive(http)
            for n in range(10):
                jid = http.post("/journeys", json={**JOURNEY, "name": f"j{n}"}).json()["id"]
                renamed = http.patch(f"/journeys/{jid}", json={"name": f"renamed {n}"})
                assert renamed.status_code == 200
                assert http.get(f"/journeys/{jid}").json()["name"] == f"renamed {n}"
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            names = {name for (name,) in connection.execute(
                "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")}
        assert {"journeys api", "journeys projections run"} <= names, "each names its connections"
    finally:
        assert api.stop() == 0, api.log()
        assert runner.stop() == 0, runner.log()


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_rebuild_with_two_workers_gives_the_same_read_models(
    dialect: str, postgres_url: str, tmp_path: Path
) -> None:
    """On SQLite each worker writes into a file of its own, copied in afterwards."""
    from datetime import UTC, datetime

    from domain.triggers import IncomingEvent
    from journeys.wiring import build_system

    if dialect == "postgres":
        url = postgres_url
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'journeys.db'}"
    system = build_system(url)
    app = system.services.app
    jid = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey.id
    app.add_step(jid, "UPDATE", "tag", {"updates": [{"field": "n", "action": "increment", "value": 1}]})
    app.add_step(jid, "WAIT", "nap", {"duration": "1 day"})
    app.add_step(jid, "END", "done")
    app.activate(jid)
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(40)])
    system.scheduler.tick(datetime.now(UTC))
    tables = ("journeys", "journey_steps", "journey_stats", "enrollments",
              "enrollment_steps", "step_stats", "customers", "due_work", "projection_tracking")

    def snapshot() -> dict[str, list[dict[str, Any]]]:
        return {t: sorted(system.services.database.query(f"SELECT * FROM {t}"), key=repr)
                for t in tables}

    def indexes() -> list[dict[str, Any]]:
        if dialect == "sqlite":
            return system.services.database.query(
                "SELECT name AS indexname, sql AS indexdef FROM sqlite_master "
                "WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        return system.services.database.query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY indexname")

    before, indexes_before = snapshot(), indexes()
    rebuilt = journeys("projections", "rebuild", "--workers", "2", "--database", url)
    after, indexes_after = snapshot(), indexes()
    app.close()

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt journeys, enrollments, customers, due_work" in rebuilt.stdout
    assert before["journey_stats"][0]["total_enrolled"] == 40
    assert before["journey_stats"][0]["total_completed"] == 0
    assert len(before["due_work"]) == 40, "every enrollment waits"
    assert after == before
    assert any(i["indexname"] == "enrollments_by_journey_status" for i in indexes_before)
    assert indexes_after == indexes_before, "secondary indexes are made again after the replay"
    assert not list(tmp_path.glob("*.rebuild-*")), "the workers' own files are removed"


def test_processes_started_together_on_a_new_database_all_start(postgres_url: str) -> None:
    """Each makes the schema at start; they take turns (the library's DDL alone races).
    (`tick` makes it; `projections status` only reads, and refuses a database without it.)"""
    import subprocess

    from tests.e2e.processes import JOURNEYS

    for attempt in range(3):
        reset_postgres(postgres_url)
        started = [subprocess.Popen([JOURNEYS, "tick", "--now", "2025-01-01T00:00:00Z",
                                     "--database", postgres_url],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(6)]
        results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in started]
        assert [code for code, _ in results] == [0] * 6, (attempt, results)
