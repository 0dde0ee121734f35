"""Scenario 2, timers: 10,000 waits due at the same instant, fired by a live `journeys
scheduler` process (not `tick`). Lateness is the wall-clock stamp of the `Advanced`
event that completed each WAIT minus the instant the wait was due."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from domain.triggers import IncomingEvent
from journeys.wiring import build_system
from scheduler.channels import LogChannel

JOURNEYS = str(Path(sys.executable).with_name("journeys"))


def run(url: str, waits: int = 10_000, lead: float = 90.0, interval: float = 1.0,
        log_dir: Path | None = None, schedulers: int = 1, batch_size: int = 200,
        projections: str = "inline") -> dict[str, float | str]:
    """`projections`: "inline", each scheduler process keeps the read models in a thread
    (`journeys scheduler`); "external", one `journeys projections run` process keeps them
    and the schedulers run with `--projections external`."""
    due = datetime.now(UTC) + timedelta(seconds=lead)
    start = due - timedelta(days=1)
    system = build_system(url, clock=lambda: start, channel=LogChannel())
    app = system.services.app
    tenant = f"timers-{uuid4().hex[:8]}"  # each run its own tenant: event ids do not repeat
    journey = app.create_journey(tenant_id=tenant, name="timers", trigger_type="timers.go")
    jid = journey.journey.id
    app.add_step(jid, "WAIT", "A day", {"duration": "1 day"})
    app.add_step(jid, "END", "Done")
    app.activate(jid)
    system.runner.catch_up()
    for first in range(0, waits, 1000):
        system.services.triggers.ingest([IncomingEvent(tenant, "timers.go", f"t{n}", f"t{n}", None, {}, None)
                    for n in range(first, min(waits, first + 1000))])
    system.scheduler.tick(start)  # every wait starts now-1day, so all end at `due`
    remaining = (due - datetime.now(UTC)).total_seconds()
    if remaining < 5:
        raise RuntimeError(f"setup took too long: only {remaining:.1f}s before the waits end")
    commands = [[JOURNEYS, "scheduler", "--database", url, "--interval", str(interval),
                 "--batch-size", str(batch_size), "--projections", projections]
                for _ in range(schedulers)]
    if projections == "external":
        commands.append([JOURNEYS, "projections", "run", "--database", url])
    running = []
    for number, command in enumerate(commands):
        log = (log_dir / f"timers-{command[1]}-{number}.log").open("w") if log_dir else None
        running.append(subprocess.Popen(command, stdout=log or subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, env=dict(os.environ)))
    try:
        # Watched, not helped: the service's own read models must show every wait done
        # (this process applying batches itself would take a core from the service).
        deadline = time.monotonic() + remaining + 600
        while time.monotonic() < deadline:
            time.sleep(1)
            row = system.services.database.query_one(
                "SELECT total_completed FROM journey_stats WHERE journey_id = ?", (jid,))
            if row and row["total_completed"] >= waits:
                break
    finally:
        for scheduler in running:
            scheduler.send_signal(signal.SIGTERM)
        for scheduler in running:
            scheduler.wait(timeout=60)
    system.runner.catch_up()  # the enrollments read model, for `_fire_times`
    fired = _fire_times(system, jid)
    app.close()
    if len(fired) < 2:
        raise RuntimeError(f"only {len(fired)} of {waits} waits fired; see the scheduler logs")
    lateness = sorted((at - due).total_seconds() for at in fired)
    quantiles = statistics.quantiles(lateness, n=100)
    span = (max(fired) - min(fired)).total_seconds() or 1e-9
    return {"waits": waits, "fired": len(fired), "interval_s": interval, "schedulers": schedulers,
            "batch_size": batch_size, "projections": projections,
            "lateness_p50_s": quantiles[49], "lateness_p99_s": quantiles[98],
            "lateness_max_s": lateness[-1], "fire_rate_per_s": len(fired) / span}


def _fire_times(system: object, journey_id: str) -> list[datetime]:
    """When each of the journey's waits really fired: the library's wall-clock `timestamp`
    on the `Advanced` event whose facts complete the WAIT (the facts' `at` is the logical
    due time)."""
    services = system.services  # type: ignore[attr-defined]
    table = services.app.recorder.events_table_name
    ids = {r["id"] for r in services.database.query(
        "SELECT id FROM enrollments WHERE journey_id = ?", (journey_id,))}
    fired = []
    for row in services.database.query(
        f"SELECT originator_id, state FROM {table} WHERE topic = ?",
        ("domain.enrollment:Enrollment.Advanced",),
    ):
        if row["originator_id"] not in ids:
            continue
        state = json.loads(bytes(row["state"]))
        if any(f["kind"] == "StepCompleted" and f["step_type"] == "WAIT" for f in state["facts"]):
            fired.append(datetime.fromisoformat(state["timestamp"]["_data_"]))
    return fired
