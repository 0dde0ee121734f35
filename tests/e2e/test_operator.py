"""What an operator meets at the command line: keys, one-line errors, open mode, signals,
JSON logs, and waitress's own refusals in the error shape."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import JOURNEYS, Process, free_port, journeys, wait_healthy

pytestmark = pytest.mark.e2e


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_keys_are_made_listed_and_revoked_and_the_secret_is_shown_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    made = journeys("keys", "create", "--tenant", "acme", "--json", "--database", url)
    ops = journeys("keys", "create", "--all-tenants", "--name", "ops", "--database", url)
    listed = journeys("keys", "list", "--json", "--database", url)

    key = json.loads(made.stdout)
    assert set(key) == {"id", "name", "tenantId", "key"} and key["tenantId"] == "acme"
    assert ops.returncode == 0 and ops.stdout.strip().splitlines()[-1].startswith("jrn_")
    assert [(k["name"], k["tenantId"]) for k in json.loads(listed.stdout)] == [
        ("acme key", "acme"), ("ops", None)]
    assert key["key"] not in listed.stdout, "the secret is never shown again"
    assert not any(key["key"] in p.read_bytes().decode(errors="replace")
                   for p in tmp_path.iterdir()), "only a hash of the secret is stored"

    revoked = journeys("keys", "revoke", key["id"], "--database", url)
    again = journeys("keys", "revoke", key["id"], "--database", url)
    assert revoked.returncode == 0
    assert "revoked already" in one_line_error(again)
    assert json.loads(journeys("keys", "list", "--json", "--database", url).stdout)[0]["revokedAt"]
    assert "needs --name" in one_line_error(
        journeys("keys", "create", "--all-tenants", "--database", url))


@pytest.mark.parametrize(("url", "causes"), [
    ("postgresql://postgres:hunter2@127.0.0.1:1/journeys", ("Connection refused",)),
    ("sqlite:////nonexistent/folder/j.db", ("unable to open database file (no folder",
                                            "no such database file")),
])
def test_an_unusable_database_is_one_line_without_its_password(
    url: str, causes: tuple[str, ...]
) -> None:
    for command in (["tick", "--now", "2025-01-01T00:00:00Z"], ["projections", "status"],
                    ["serve", "--port", str(free_port())]):
        line = one_line_error(journeys(*command, "--database", url, timeout=30))
        assert any(cause in line for cause in causes) and "hunter2" not in line, line
        assert url.replace(":hunter2", "") in line


def test_a_missing_postgresql_database_or_role_is_named(postgres_url: str) -> None:
    base = postgres_url.rsplit("/", 1)[0]
    missing_db = one_line_error(journeys("tick", "--now", "2025-01-01T00:00:00Z",
                                         "--database", f"{base}/no_such_database"))
    missing_role = one_line_error(journeys(
        "tick", "--now", "2025-01-01T00:00:00Z", "--database",
        postgres_url.replace("postgres@", "no_such_role@")))

    assert 'database "no_such_database" does not exist' in missing_db
    assert 'role "no_such_role" does not exist' in missing_role


def test_status_makes_no_database_where_there_is_none(tmp_path: Path) -> None:
    path = tmp_path / "none.db"

    line = one_line_error(journeys("projections", "status", "--database", f"sqlite:///{path}"))

    assert "no such database file" in line
    assert not path.exists()


def test_a_port_in_use_or_out_of_range_is_one_line_and_makes_no_tables(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = one_line_error(journeys("serve", "--port", str(port),
                                         "--database", f"sqlite:///{path}"))
    out_of_range = one_line_error(journeys("api", "--port", "70000",
                                           "--database", f"sqlite:///{path}"))

    assert f"127.0.0.1:{port}" in in_use and "in use" in in_use
    assert "70000" in out_of_range and "out of range" in out_of_range
    assert not path.exists(), "nothing made before the port was had"


def test_open_mode_listens_beyond_loopback_only_when_allowed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    refused = journeys("serve", "--host", "0.0.0.0", "--port", str(free_port()), "--database", url)
    assert "no API key exists" in one_line_error(refused)

    port = free_port()
    allowed = Process("serve", "--host", "0.0.0.0", "--port", str(port), "--allow-anonymous",
                      "--database", url, log=tmp_path / "serve.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        assert "open mode" in allowed.log()
    finally:
        assert allowed.stop() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_sigterm_and_sigint_even_started_with_sigint_ignored(
    tmp_path: Path, signum: signal.Signals
) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    # A shell without job control starts background commands with SIGINT ignored.
    process = subprocess.Popen(
        ["sh", "-c", 'trap "" INT; exec "$0" serve --port "$1" --database "$2"', JOURNEYS,
         str(port), f"sqlite:///{tmp_path / 'j.db'}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        started = time.monotonic()
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    assert "stopped" in (tmp_path / "serve.log").read_text()


def test_json_logs_carry_the_request_id_and_never_a_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    secret = json.loads(journeys("keys", "create", "--tenant", "acme", "--json",
                                 "--database", url).stdout)["key"]
    port = free_port()
    serve = Process("--log-format", "json", "serve", "--port", str(port), "--database", url,
                    log=tmp_path / "serve.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        answer = httpx.post(f"http://127.0.0.1:{port}/journeys",
                            json={"name": "n", "triggerType": "x"},
                            headers={"Authorization": f"Bearer {secret}",
                                     "X-Request-Id": "trace-42"})
        assert answer.status_code == 201
    finally:
        assert serve.stop() == 0
    records = [json.loads(line) for line in serve.log().splitlines() if line.startswith("{")]
    request = next(r for r in records if r.get("request_id") == "trace-42")
    assert {"time", "level", "message", "method", "route", "status", "duration_ms",
            "key_id"} <= set(request)
    assert (request["route"], request["status"]) == ("/journeys", 201)
    assert request["key_id"].startswith("key_")
    assert secret not in serve.log()


def test_what_waitress_refuses_itself_has_the_error_shape(tmp_path: Path) -> None:
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database",
                    f"sqlite:///{tmp_path / 'j.db'}", log=tmp_path / "serve.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        base = f"http://127.0.0.1:{port}"
        too_big = httpx.post(f"{base}/journeys", content=b"x" * (11 * 1024 * 1024),
                             headers={"Content-Type": "application/json"}, timeout=30)
        headers = httpx.get(f"{base}/health", headers={"X-Big": "y" * 300_000}, timeout=30)
        for refused, status in ((too_big, 413), (headers, 431)):
            assert refused.status_code == status
            assert refused.headers["Content-Type"] == "application/json"
            assert set(refused.json()) >= {"title", "description", "code"}
    finally:
        assert serve.stop() == 0


def test_idle_connections_do_not_keep_health_from_answering(tmp_path: Path) -> None:
    port = free_port()
    serve = Process("serve", "--port", str(port), "--database",
                    f"sqlite:///{tmp_path / 'j.db'}", log=tmp_path / "serve.log")
    idle: list[socket.socket] = []
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", port)))
        answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert answer.status_code == 200
    finally:
        for sock in idle:
            sock.close()
        assert serve.stop() == 0


def test_a_scheduler_serves_its_own_metrics_when_asked(tmp_path: Path) -> None:
    port = free_port()
    scheduler = Process("scheduler", "--metrics-port", str(port), "--database",
                        f"sqlite:///{tmp_path / 'j.db'}", log=tmp_path / "scheduler.log")
    try:
        scheduler.wait_for_log("running")
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        assert scheduler.stop() == 0
    assert "# HELP journeys_messages_total" in text
    assert "# HELP journeys_set_aside_total" in text


def test_an_api_alone_says_nobody_keeps_the_read_models_at_start_and_in_its_wait(
    tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    port = free_port()
    api = Process("api", "--port", str(port), "--database", url, log=tmp_path / "api.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        assert "no process keeps the read models" in api.log()
        created = httpx.post(f"http://127.0.0.1:{port}/journeys", timeout=30,
                             json={"tenantId": "t", "name": "n", "triggerType": "x"})
        assert created.status_code == 201, "answered after its wait, all the same"
        waited = [line for line in api.log().splitlines() if "did not reach position" in line]
        assert waited and "no process keeps the read models" in waited[0]
    finally:
        assert api.stop() == 0
