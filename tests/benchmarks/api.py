"""Scenario 3 (API) and the HTTP ceiling, both driven by the same load client process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.processes import free_port

JOURNEYS = str(Path(sys.executable).with_name("journeys"))


@contextmanager
def process(command: list[str], log: Path, health: str | None = None) -> Iterator[None]:
    with log.open("w") as out:
        popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
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
            yield
        finally:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                popen.kill()


def load(url: str, seconds: float, concurrency: int, method: str = "GET",
         body: str | None = None) -> dict[str, float]:
    command = [sys.executable, "-m", "tests.benchmarks.load", "--url", url, "--method", method,
               "--seconds", str(seconds), "--concurrency", str(concurrency)]
    if body:
        command += ["--body", body]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    stats: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return stats


def http_ceiling(url: str, log_dir: Path, seconds: float, concurrency: int) -> dict[str, dict[str, float]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process([sys.executable, "-m", "tests.benchmarks.bare_api", "--database", url,
                  "--port", str(port)], log_dir / "bare_api.log", f"{base}/json"):
        return {
            "json": load(f"{base}/json", seconds, concurrency),
            "select": load(f"{base}/select/k1", seconds, concurrency),
            "insert": load(f"{base}/insert", seconds, concurrency, "POST", "{}"),
        }


def api_scenario(url: str, log_dir: Path, seconds: float, concurrency: int,
                 big_journey: str, small_journey: str) -> dict[str, dict[str, float]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    batch = json.dumps({"events": [
        {"tenantId": "loadtest", "type": "nobody.listens", "customerId": f"b{{n}}-{k}"}
        for k in range(100)]})
    with (
        process([JOURNEYS, "projections", "run", "--database", url],
                log_dir / "api-projections.log"),
        process([JOURNEYS, "scheduler", "--projections", "external", "--database", url],
                log_dir / "api-scheduler.log"),
        process([JOURNEYS, "api", "--database", url, "--port", str(port)], log_dir / "api.log",
                f"{base}/health"),
    ):
        return {
            "journey_detail": load(f"{base}/journeys/{big_journey}", seconds, concurrency),
            "enrollments_page_big": load(
                f"{base}/journeys/{big_journey}/enrollments?take=25", seconds, concurrency),
            "enrollments_page_small": load(
                f"{base}/journeys/{small_journey}/enrollments?take=25", seconds, concurrency),
            "enroll": load(f"{base}/journeys/{small_journey}/enrollments", seconds, concurrency,
                           "POST", '{"customerId": "load-{n}"}'),
            "events_batch_100": load(f"{base}/events/batch", seconds, concurrency, "POST", batch),
        }
