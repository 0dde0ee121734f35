"""`journeys projections verify` as a real process: beside a running service, and on read
models that no longer say what the log says."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import reset_postgres
from tests.e2e.processes import Process, free_port, journeys, wait_healthy
from tests.e2e.test_processes import JOURNEY, STEPS

pytestmark = pytest.mark.e2e


def test_verify_beside_a_running_service_finds_nothing(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'journeys.db'}"
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database", database,
                    log=tmp_path / "serve.log")
    stop = threading.Event()
    sent = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        with httpx.Client(base_url=base, timeout=15) as http:
            jid = http.post("/journeys", json={**JOURNEY, "triggerConfig": None}).json()["id"]
            for step in STEPS:
                assert http.post(f"/journeys/{jid}/steps", json=step).status_code == 201
            assert http.post(f"/journeys/{jid}/activate").status_code == 200

            def load() -> None:  # trigger events all the while verify runs
                with httpx.Client(base_url=base, timeout=15) as client:
                    n = 0
                    while not stop.is_set():
                        answer = client.post("/events/batch", json={"events": [
                            {"tenantId": "tenant_e2e", "type": "member.created",
                             "customerId": f"c{n}-{k}"} for k in range(20)]})
                        sent.append(answer.status_code)
                        n += 1

            loader = threading.Thread(target=load)
            loader.start()
            try:
                verified = journeys("projections", "verify", "--database", database)
            finally:
                stop.set()
                loader.join()
    finally:
        assert serve.stop() == 0
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert sent and set(sent) == {202}, "the service took events all the while"
    for name in ("journeys", "enrollments", "customers", "due_work"):
        assert f"read model {name}: no differences" in verified.stderr
    assert verified.stdout == ""
    assert not list(tmp_path.glob("journeys-verify-*")), "the scratch files are gone"


def test_verify_names_each_difference_and_exits_1(tmp_path: Path, postgres_url: str) -> None:
    reset_postgres(postgres_url)
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database", postgres_url,
                    log=tmp_path / "serve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        with httpx.Client(base_url=base, timeout=15) as http:
            jid = http.post("/journeys", json=JOURNEY).json()["id"]
            assert http.post(f"/journeys/{jid}/steps", json=STEPS[0]).status_code == 201
    finally:
        assert serve.stop() == 0
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE journeys SET name = 'Tampered' WHERE id = %s", (jid,))

    verified = journeys("projections", "verify", "journeys", "--database", postgres_url)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert verified.stdout.strip() == (f"journeys (id={jid}) name: live 'Tampered', "
                                       f"rebuilt '{JOURNEY['name']}'")
    assert "read model journeys: 1 difference\n" in verified.stderr
    unknown = journeys("projections", "verify", "nothing", "--database", postgres_url)
    assert unknown.returncode == 2 and "unknown projection 'nothing'" in unknown.stderr

