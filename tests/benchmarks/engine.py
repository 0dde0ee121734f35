"""Scenario 1, engine throughput, and scenario 4, rebuild, in their own process:
`python -m tests.benchmarks.engine --database URL --customers N` prints one JSON line.

N customers arrive as batched trigger events (1,000 per batch) for an ACTIVE journey of
six steps (SEND on the log channel, WAIT 1 day, CONDITION, SPLIT 50/50, UPDATE, END);
`tick` runs at the arrival instant and again past the wait.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from domain.triggers import IncomingEvent
from journeys.settings import tune_collector
from journeys.wiring import System, build_system
from scheduler.channels import LogChannel

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
JOURNEYS = str(Path(sys.executable).with_name("journeys"))


def six_step_journey(system: System, tenant: str, trigger: str = "bench.signup") -> str:
    """SEND, WAIT 1 day, CONDITION (score >= 50), SPLIT 50/50, UPDATE, END; branches and
    variants fall through to the next step."""
    app = system.services.app
    jid = app.create_journey(tenant_id=tenant, name="bench", trigger_type=trigger,
                             timezone="Europe/London").journey.id
    for step_type, name, config in (
        ("SEND", "Welcome", {"channel": "EMAIL", "templateId": "welcome"}),
        ("WAIT", "Wait a day", {"duration": "1 day"}),
        ("CONDITION", "Engaged?", {"rules": [{"field": "score", "operator": "gte", "value": 50}]}),
        ("SPLIT", "A/B", {"splits": [{"percentage": 50}, {"percentage": 50}]}),
        ("UPDATE", "Tag", {"updates": [{"field": "tags", "action": "add", "value": "onboarded"}]}),
        ("END", "Done", {}),
    ):
        app.add_step(jid, step_type, name, config)
    app.activate(jid)
    system.runner.catch_up()
    return jid


def ingest(system: System, tenant: str, customers: int, progress: bool) -> float:
    triggers = system.services.triggers
    started = time.perf_counter()
    with tqdm(total=customers, unit="event", desc="ingest", disable=not progress) as bar:
        for start in range(0, customers, 1000):
            size = min(1000, customers - start)
            triggers.ingest([IncomingEvent(tenant, "bench.signup", f"c{n}", f"e{n}", None,
                                           {"score": n % 100}, None)
                        for n in range(start, start + size)])
            bar.update(size)
    return time.perf_counter() - started


def cpu_seconds(who: int) -> float:
    """User plus system CPU seconds of this process (RUSAGE_SELF) or of its waited-for
    children (RUSAGE_CHILDREN) so far."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--projections", choices=("inline", "external"), default="external",
                        help="external: a `journeys projections run` process beside the ticks")
    parser.add_argument("--rebuild-workers", type=int, default=2,
                        help="`journeys projections rebuild --workers` (default 2)")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    now = {"t": T0}
    system = build_system(args.database, clock=lambda: now["t"], channel=LogChannel(),
                          batch_size=args.batch_size)
    tune_collector()  # as in every `journeys` process: this one stands for `journeys tick`
    jid = six_step_journey(system, args.tenant)
    head_before = system.runner.head()
    engine_cpu = cpu_seconds(resource.RUSAGE_SELF)
    ingest_seconds = ingest(system, args.tenant, args.customers, args.progress)
    external = args.projections == "external"
    follower = subprocess.Popen(
        [JOURNEYS, "projections", "run", "--database", args.database],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if external else None
    try:
        started = time.perf_counter()
        first = system.scheduler.tick(T0, external_projections=external)
        first_seconds = time.perf_counter() - started
        second = system.scheduler.tick(T0 + timedelta(days=1, hours=1),
                                       external_projections=external)
        engine_seconds = time.perf_counter() - started
    finally:
        if follower:
            follower.send_signal(signal.SIGTERM)
            follower.wait(timeout=60)
    engine_cpu = cpu_seconds(resource.RUSAGE_SELF) - engine_cpu
    projections_cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    # The largest child so far is the projections process (before the rebuild's start).
    projections_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    written = system.runner.head() - head_before
    counters = system.services.database.query_one(
        "SELECT total_enrolled, total_completed FROM journey_stats WHERE journey_id = ?", (jid,))
    if not counters or counters["total_completed"] != args.customers:
        raise SystemExit(f"engine scenario: {counters and counters['total_completed']} of "
                         f"{args.customers} enrollments completed when the ticks returned")
    transitions = int(system.services.database.query_one(
        "SELECT SUM(completed) AS n FROM step_stats WHERE journey_id = ?", (jid,))["n"])  # type: ignore[index]
    started = time.perf_counter()
    done = subprocess.run(
        [JOURNEYS, "projections", "rebuild", "--workers", str(args.rebuild_workers),
         "--database", args.database], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"rebuild failed ({done.returncode}):\n{done.stderr}")
    rebuild_seconds = time.perf_counter() - started
    rebuild_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - projections_cpu
    rebuilt = int(done.stdout.split(" from ")[-1].split()[0])
    print(json.dumps({
        "journey_id": jid,
        "customers": args.customers,
        "completed": counters["total_completed"] if counters else 0,
        "ingest_seconds": ingest_seconds,
        "ingest_events_per_s": args.customers / ingest_seconds,
        "batch_size": args.batch_size,
        "first_tick_seconds": first_seconds,
        "second_tick_seconds": engine_seconds - first_seconds,
        "engine_seconds": engine_seconds,
        "total_seconds": ingest_seconds + engine_seconds,
        "events_written": written,
        "events_per_s": written / (ingest_seconds + engine_seconds),
        "transitions": transitions,
        "transitions_per_s": transitions / engine_seconds,
        "matched": first.matched,
        "enrolled": first.enrolled,
        "processed": first.processed + second.processed,
        "rebuild_workers": args.rebuild_workers,
        "rebuild_events": rebuilt,
        "rebuild_seconds": rebuild_seconds,
        "rebuild_events_per_s": rebuilt / rebuild_seconds,
        # Where the cores went: the engine process over ingest and ticks, the projections
        # process beside it (inline: 0, inside the engine's), the rebuild's processes.
        "engine_cpu_seconds": engine_cpu,
        "projections_cpu_seconds": projections_cpu,
        "rebuild_cpu_seconds": rebuild_cpu,
        "projections": args.projections,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "projections_peak_rss_mb": projections_rss if external else None,
        "rebuild_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))
    system.services.app.close()


if __name__ == "__main__":
    main()
