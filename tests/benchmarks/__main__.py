"""The benchmark suite: `python -m tests.benchmarks [--database URL ...] [--customers N]`.

For each database it measures the baselines (library, storage and HTTP ceilings) and the
scenarios (engine throughput, timers, API, rebuild) in the same run, prints a table of
absolute figures and ratios against the targets of docs/performance.md, and writes JSON to
`bench-results/`. PostgreSQL URLs name a server: the suite creates (and drops) its own
database `journeys_bench` there. It is never collected by the test run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.benchmarks import api, baselines, timers

DEFAULT_DATABASES = ["postgresql://postgres@127.0.0.1:5432/journeys_bench", "sqlite"]


def fresh_database(url: str, workdir: Path) -> str:
    if url == "sqlite" or url.startswith("sqlite"):
        return f"sqlite:///{workdir / 'bench.db'}"
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "journeys_bench"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def engine(url: str, customers: int, batch_size: int, tenant: str = "bench") -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.engine", "--database", url,
         "--customers", str(customers), "--batch-size", str(batch_size), "--tenant", tenant,
         "--progress"],
        stdout=subprocess.PIPE, text=True, check=True)
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def run_database(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from journeys.wiring import build

    url = fresh_database(url, workdir)
    dialect = "sqlite" if url.startswith("sqlite") else "postgres"
    print(f"\n== {dialect}: {url}", flush=True)
    services = build(url)
    results: dict[str, Any] = {"database": dialect}
    print("baseline: library ceiling", flush=True)
    results["library_ceiling"] = baselines.library_ceiling(url)
    print("baseline: storage ceiling", flush=True)
    results["storage_ceiling"] = baselines.storage_ceiling(url, services.database)
    baselines.prepare_http_ceiling(services.database)
    services.app.close()
    if "engine" in args.scenarios:
        print(f"scenario: engine, {args.customers} customers (and rebuild)", flush=True)
        results["engine"] = engine(url, args.customers, args.batch_size)
        print(json.dumps(results["engine"]), flush=True)
    if "api" in args.scenarios:
        print("scenario: API beside the HTTP ceiling (a journey with 1,000 enrollments first)",
              flush=True)
        small = engine(url, 1000, args.batch_size, tenant="small")
        big = results.get("engine", {}).get("journey_id") or small["journey_id"]
        print("scenario: what keys and idempotency cost (open mode and keyed, in turn)",
              flush=True)
        results["trust"] = api.trust_cost(url, workdir, args.seconds, args.concurrency, big,
                                          small["journey_id"])
        results["http_ceiling"], results["api"] = api.api_scenario(
            url, workdir, args.seconds, args.concurrency, big, small["journey_id"])
        print(json.dumps(results), flush=True)
    if "timers" in args.scenarios:
        results["timers"] = []
        for count, projections in args.timers:
            print(f"scenario: timers, {args.waits} waits, {count} scheduler process(es), "
                  f"projections {projections}", flush=True)
            results["timers"].append(
                timers.run(url, waits=args.waits, log_dir=workdir, schedulers=count,
                           projections=projections,
                           batch_size=args.batch_size))
            print(json.dumps(results["timers"][-1]), flush=True)
    return results


def ratio(value: float, base: float) -> float:
    return value / base if base else float("nan")


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, value, ratio, target) rows for one database."""
    rows: list[tuple[str, str, str, str]] = []
    library = results["library_ceiling"]["events_per_s"]
    rows.append(("library ceiling (events/s)", f"{library:,.0f}", "1.00", "baseline"))
    rows.append(("storage ceiling (rows/s)",
                 f"{results['storage_ceiling']['rows_per_s']:,.0f}", "", "baseline"))
    if "engine" in results:
        e = results["engine"]
        rows += [
            ("engine: ingest (events/s)", f"{e['ingest_events_per_s']:,.0f}", "", ""),
            ("engine: events/s", f"{e['events_per_s']:,.0f}",
             f"{ratio(e['events_per_s'], library):.2f}", ">= 0.5 of library"),
            ("engine: transitions/s", f"{e['transitions_per_s']:,.0f}", "", ""),
            (f"engine: {e['customers']:,} customers, all done (s)", f"{e['total_seconds']:.0f}",
             "", "100k < 180 s; 1M < 1200 s"),
            ("engine: peak RSS (MB)", f"{e['peak_rss_mb']:.0f}", "", "< 300"),
            ("engine: projections process peak RSS (MB)",
             f"{e['projections_peak_rss_mb'] or 0:.0f}", "", "< 300"),
            ("engine: largest child process, rebuild included, peak RSS (MB)",
             f"{e.get('rebuild_peak_rss_mb') or 0:.0f}", "", "< 300"),
            ("rebuild (events/s)", f"{e['rebuild_events_per_s']:,.0f}",
             f"{ratio(e['rebuild_events_per_s'], e['events_per_s']):.2f}", ">= 3 x engine"),
            ("CPU s: engine process / projections process / rebuild",
             f"{e['engine_cpu_seconds']:.1f} / {e['projections_cpu_seconds']:.1f} / "
             f"{e['rebuild_cpu_seconds']:.1f}", "", ""),
        ]
    if "http_ceiling" in results and "api" in results:
        h, a = results["http_ceiling"], results["api"]
        for name, stats, base, target in (
            ("GET journey detail", a["journey_detail"], h["select"], ">= 0.7 of SELECT"),
            ("GET enrollments page (big)", a["enrollments_page_big"], h["select"], ""),
            ("GET enrollments page (1k)", a["enrollments_page_small"], h["select"], ""),
            ("POST enroll", a["enroll"], h["insert"], ">= 0.5 of INSERT"),
            ("POST /events/batch (100)", a["events_batch_100"], h["insert"], ""),
            ("bare JSON", h["json"], h["json"], "baseline"),
            ("bare SELECT", h["select"], h["select"], "baseline"),
            ("bare INSERT", h["insert"], h["insert"], "baseline"),
        ):
            rows.append((f"{name} (req/s; p50/p99 ms)",
                         f"{stats['rps']:,.0f}; {stats['p50_ms']:.1f}/{stats['p99_ms']:.1f}",
                         f"{ratio(stats['rps'], base['rps']):.2f}", target))
        for name, stats in (("POST enroll", a["enroll"]), ("bare INSERT", h["insert"]),
                            ("GET journey detail", a["journey_detail"]),
                            ("bare SELECT", h["select"])):
            cpu = stats.get("cpu_ms_per_request")
            if cpu:
                rows.append((f"{name}: CPU ms per request (total)",
                             ", ".join(f"{k} {v:.2f}" for k, v in cpu.items() if v >= 0.005)
                             + f" ({sum(cpu.values()):.2f})", "", ""))
            by_client = stats.get("postgres_cpu_ms_by_client")
            if by_client:
                rows.append((f"{name}: PostgreSQL CPU ms per request, by client",
                             ", ".join(f"{k} {v:.2f}" for k, v in sorted(by_client.items())
                                       if v >= 0.005), "", ""))
        big, small = a["enrollments_page_big"]["p99_ms"], a["enrollments_page_small"]["p99_ms"]
        rows.append(("enrollments page p99 big/1k", "", f"{ratio(big, small):.2f}", "<= 1.5"))
    trust = results.get("trust")
    for name, measure in (("GET journey detail", "journey_detail"), ("POST enroll", "enroll")):
        if trust:
            open_, keyed = trust[f"{measure}_open"], trust[f"{measure}_keyed"]
            rows.append((f"{name}: open mode / with a key (and Idempotency-Key) (req/s)",
                         f"{open_['rps']:,.0f} / {keyed['rps']:,.0f}",
                         f"{ratio(keyed['rps'], open_['rps']):.2f}",
                         ">= 0.9 of the same without"))
    for t in results.get("timers", []):
        label = (f"timers: {t['waits']:,} waits, {t['schedulers']} scheduler(s), "
                 f"projections {t['projections']}")
        rows.append((f"{label}, lateness p50/p99/max (s)",
                     f"{t['lateness_p50_s']:.2f}/{t['lateness_p99_s']:.2f}/{t['lateness_max_s']:.2f}",
                     "", f"p99 <= {t['interval_s'] + 2:.0f}"))
        rows.append((f"{label}, fire rate (/s)", f"{t['fire_rate_per_s']:,.0f}", "", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--database", action="append",
                        help="a PostgreSQL server URL or 'sqlite' (repeatable; default: both)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000,
                        help="enrollments per save: the engine scenario's `tick`, the timers' schedulers")
    parser.add_argument("--waits", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="load per API endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scenarios", default="engine,api,timers")
    parser.add_argument("--timers", default="1:inline,1:external,2:external",
                        help="timers runs, each SCHEDULERS:PROJECTIONS: how many `journeys "
                        "scheduler` processes, and whether each keeps the read models "
                        "(inline) or one `journeys projections run` beside them does (external)")
    parser.add_argument("--out", default="bench-results")
    args = parser.parse_args()
    args.scenarios = set(args.scenarios.split(","))
    args.timers = [(int(count), projections) for count, projections in
                   (run.split(":") for run in args.timers.split(","))]
    report: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "args": {
        "customers": args.customers, "batch_size": args.batch_size, "waits": args.waits,
        "seconds": args.seconds,
        "concurrency": args.concurrency, "scenarios": sorted(args.scenarios)}, "runs": []}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for url in args.database or DEFAULT_DATABASES:
            results = run_database(url, args, Path(tmp))
            report["runs"].append(results)
            rows = table(results)
            width = max(len(r[0]) for r in rows)
            print(f"\n{results['database']}:")
            print(f"{'measure':<{width}}  {'value':>26}  {'ratio':>6}  target")
            for measure, value, r, target in rows:
                print(f"{measure:<{width}}  {value:>26}  {r:>6}  {target}")
    report["seconds"] = time.monotonic() - started
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    path = out / f"bench-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
