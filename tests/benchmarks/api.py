"""Scenario 3 (API) and the HTTP ceiling, both driven by the same load client process."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

from tests.e2e.processes import free_port

JOURNEYS = str(Path(sys.executable).with_name("journeys"))


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process so far (Linux /proc; 0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (its backends serve the load)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU milliseconds per request, per process, over one load run: where the machine's two
    cores go for each request. Processes are the service's (by name), the local
    PostgreSQL server's (all its processes, sampled at the end too, so backends that
    started during the run count), and the load client (a finished child).

    On PostgreSQL each run starts with a CHECKPOINT, so the server's background writers
    are not still flushing what the steps before it wrote (the baselines, the engine
    scenario) while the run is measured."""

    def __init__(self, processes: dict[str, subprocess.Popen[bytes]], url: str) -> None:
        self.processes = processes
        self.url = url

    def _sample(self) -> dict[str, dict[int, float]]:
        sample = {name: {p.pid: _cpu_seconds(p.pid)} for name, p in self.processes.items()}
        sample["postgres"] = {pid: _cpu_seconds(pid) for pid in _postgres_pids()}
        return sample

    @contextmanager
    def measuring(self, stats: dict[str, float]) -> Iterator[None]:
        if not Path("/proc/self/stat").exists():
            yield
            return
        if self.url.startswith("postgres"):
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:  # needs superuser or pg_checkpoint
                pass
        before = self._sample()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        yield
        after = self._sample()
        done = resource.getrusage(resource.RUSAGE_CHILDREN)
        requests = stats["requests"] or 1
        per_request: dict[str, float] = {}
        for name, pids in after.items():
            spent = sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items())
            per_request[name] = spent / requests * 1000
        per_request["load client"] = ((done.ru_utime + done.ru_stime) -
                                      (children.ru_utime + children.ru_stime)) / requests * 1000
        stats["cpu_ms_per_request"] = per_request  # type: ignore[assignment]
        if self.url.startswith("postgres"):
            by_client: dict[str, float] = {}
            clients = _backend_clients(self.url)
            for pid, cpu in after["postgres"].items():
                client = clients.get(pid, "server (background, ended backends)")
                spent = (cpu - before["postgres"].get(pid, 0.0)) / requests * 1000
                by_client[client] = by_client.get(client, 0.0) + spent
            stats["postgres_cpu_ms_by_client"] = by_client  # type: ignore[assignment]


def _backend_clients(url: str) -> dict[int, str]:
    """Which process each PostgreSQL backend serves: `journeys` names its connections
    after its command (PGAPPNAME, `journeys/cli.py`), the bare app "bare app"."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid, application_name FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchall()
    return {pid: name or "unnamed client" for pid, name in rows}


@contextmanager
def process(command: list[str], log: Path, health: str | None = None,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("w") as out:
        popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        try:
            if health:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(health, timeout=1).status_code < 500:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or popen.poll() is not None:
                        raise RuntimeError(f"{command} did not start; see {log}")
                    time.sleep(0.2)
            yield popen
        finally:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                popen.kill()


def load(url: str, seconds: float, concurrency: int, method: str = "GET",
         body: str | None = None, meter: CpuMeter | None = None,
         headers: dict[str, str] | None = None) -> dict[str, float]:
    command = [sys.executable, "-m", "tests.benchmarks.load", "--url", url, "--method", method,
               "--seconds", str(seconds), "--concurrency", str(concurrency)]
    if body:
        command += ["--body", body]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    stats: dict[str, float] = {}
    with meter.measuring(stats) if meter else nullcontext():
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        stats.update(json.loads(result.stdout.strip().splitlines()[-1]))
    return stats


def _bare_app(stack: ExitStack, url: str, log_dir: Path) -> tuple[str, CpuMeter]:
    """The HTTP ceiling's bare Falcon app (`bare_api`), started on `stack`: its base URL and
    the meter of its CPU."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = stack.enter_context(process(
        [sys.executable, "-m", "tests.benchmarks.bare_api", "--database", url, "--port", str(port)],
        log_dir / "bare_api.log", f"{base}/json", env={"PGAPPNAME": "bare app"}))
    return base, CpuMeter({"bare app": app}, url)


def api_scenario(url: str, log_dir: Path, seconds: float, concurrency: int,
                 big_journey: str, small_journey: str
                 ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The HTTP ceiling's endpoints and the API's, each of the API's right after the bare
    endpoint it is compared with (the machine's speed drifts by a quarter within minutes,
    so a baseline measured minutes apart from its endpoint says little); returns the
    ceiling's measures and the API's."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    batch = json.dumps({"events": [
        {"tenantId": "loadtest", "type": "nobody.listens", "customerId": f"b{{n}}-{k}"}
        for k in range(100)]})
    with ExitStack() as stack:
        bare, bare_meter = _bare_app(stack, url, log_dir)
        if url.startswith("sqlite"):
            # The embedded layout: one process, whose consistency waits wake its own runner.
            service = stack.enter_context(process(
                [JOURNEYS, "serve", "--database", url, "--port", str(port)],
                log_dir / "api.log", f"{base}/health"))
            meter = CpuMeter({"serve": service}, url)
        else:
            # The production layout of operations.md.
            projections = stack.enter_context(process(
                [JOURNEYS, "projections", "run", "--database", url],
                log_dir / "api-projections.log"))
            scheduler = stack.enter_context(process(
                [JOURNEYS, "scheduler", "--projections", "external", "--database", url],
                log_dir / "api-scheduler.log"))
            service = stack.enter_context(process(
                [JOURNEYS, "api", "--database", url, "--port", str(port)], log_dir / "api.log",
                f"{base}/health"))
            meter = CpuMeter({"api": service, "projections": projections,
                              "scheduler": scheduler}, url)
        ceiling = {"json": load(f"{bare}/json", seconds, concurrency, meter=bare_meter),
                   "select": load(f"{bare}/select/k1", seconds, concurrency, meter=bare_meter)}
        measured = {
            "journey_detail": load(f"{base}/journeys/{big_journey}", seconds, concurrency,
                                   meter=meter),
            "enrollments_page_big": load(
                f"{base}/journeys/{big_journey}/enrollments?take=25", seconds, concurrency,
                meter=meter),
            "enrollments_page_small": load(
                f"{base}/journeys/{small_journey}/enrollments?take=25", seconds, concurrency,
                meter=meter),
        }
        ceiling["insert"] = load(f"{bare}/insert", seconds, concurrency, "POST", "{}",
                                 meter=bare_meter)
        measured |= {
            "enroll": load(f"{base}/journeys/{small_journey}/enrollments", seconds, concurrency,
                           "POST", '{"customerId": "load-{n}"}', meter=meter),
            "events_batch_100": load(f"{base}/events/batch", seconds, concurrency, "POST", batch,
                                     meter=meter),
        }
        return ceiling, measured


def _service(stack: ExitStack, url: str, log_dir: Path, name: str) -> tuple[str, CpuMeter]:
    """The service on `url`, started on `stack` as operations.md lays it out: `serve` on
    SQLite (one process, whose consistency waits wake its own runner); `api`, `projections
    run` and `scheduler` on PostgreSQL. Its base URL and the meter of its CPU."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if url.startswith("sqlite"):
        service = stack.enter_context(process(
            [JOURNEYS, "serve", "--database", url, "--port", str(port)],
            log_dir / f"{name}.log", f"{base}/health"))
        return base, CpuMeter({"serve": service}, url)
    projections = stack.enter_context(process(
        [JOURNEYS, "projections", "run", "--database", url], log_dir / f"{name}-projections.log"))
    scheduler = stack.enter_context(process(
        [JOURNEYS, "scheduler", "--projections", "external", "--database", url],
        log_dir / f"{name}-scheduler.log"))
    service = stack.enter_context(process(
        [JOURNEYS, "api", "--database", url, "--port", str(port)], log_dir / f"{name}.log",
        f"{base}/health"))
    return base, CpuMeter({"api": service, "projections": projections, "scheduler": scheduler},
                          url)


def _copy_database(url: str) -> str:
    """A copy of the database, for a second service beside the first."""
    if url.startswith("sqlite"):
        import sqlite3

        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as source, sqlite3.connect(path + ".keys") as copy:
            source.backup(copy)
        return f"sqlite:///{path}.keys"
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_keys" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}_keys" TEMPLATE "{name}"')
    return parts._replace(path=f"/{name}_keys").geturl()


def trust_cost(url: str, log_dir: Path, seconds: float, concurrency: int, big_journey: str,
               small_journey: str, rounds: int = 2) -> dict[str, dict[str, float]]:
    """What keys and idempotency cost: one service in open mode, and one on a copy of its
    database with an operator's key, every request of it with the key and every enroll
    with an Idempotency-Key; GET journey detail and POST enroll loaded on each in turn,
    `rounds` times, so the machine's drift falls on both alike. Returns each measure's
    requests per second summed over the rounds, open and keyed."""
    keyed_url = _copy_database(url)
    made = subprocess.run([JOURNEYS, "keys", "create", "--all-tenants", "--name", "bench",
                           "--json", "--database", keyed_url], capture_output=True, text=True,
                          check=True)
    key = {"Authorization": f"Bearer {json.loads(made.stdout)['key']}"}
    totals: dict[str, dict[str, float]] = {}
    with ExitStack() as stack:
        open_base, open_meter = _service(stack, url, log_dir, "open")
        keyed_base, keyed_meter = _service(stack, keyed_url, log_dir, "keyed")
        for round_ in range(rounds):
            for name, path, method, body in (
                    ("journey_detail", f"/journeys/{big_journey}", "GET", None),
                    ("enroll", f"/journeys/{small_journey}/enrollments", "POST",
                     f'{{"customerId": "r{round_}-{{n}}"}}')):
                for mode, base, meter, url_of, headers in (
                        ("open", open_base, open_meter, url, {}),
                        ("keyed", keyed_base, keyed_meter, keyed_url,
                         {**key, **({"Idempotency-Key": f"r{round_}-{{n}}"}
                                    if method == "POST" else {})})):
                    settled(base, url_of)
                    stats = load(f"{base}{path}", seconds, concurrency, method, body,
                                 meter=meter, headers=headers)
                    total = totals.setdefault(f"{name}_{mode}", {"rps": 0.0, "errors": 0.0})
                    total["rps"] += stats["rps"] / rounds
                    total["errors"] += stats["errors"]
    return totals


def settled(base: str, url: str, timeout: float = 120) -> None:
    """Wait until every read model has caught up with the log (`GET /ready`), and the
    trigger matcher too (the events batches before leave it thousands to read)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = httpx.get(f"{base}/ready", timeout=10).json()
        if not any(ready.get("lag", {}).values()) and _matched(url) >= ready.get("head", 0):
            return
        time.sleep(0.2)


def _matched(url: str) -> int:
    statement = "SELECT position FROM projection_tracking WHERE name = 'trigger_matcher'"
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            row = connection.execute(statement).fetchone()
    else:
        with psycopg.connect(url, autocommit=True) as connection:
            row = connection.execute(statement).fetchone()
    return int(row[0]) if row else 0
