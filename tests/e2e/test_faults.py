"""Faults from outside: PostgreSQL restarting and away for seconds under a stream of
trigger events, and `serve` killed mid-burst. Nothing acknowledged is lost, nobody is
enrolled twice, no request fails with a 500 or hangs, and no process needs a restart."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from domain.ids import trigger_event_id_for
from journeys.wiring import build_system
from tests.conftest import reset_postgres
from tests.e2e.processes import Process, free_port, wait_healthy
from tests.e2e.proxy import Proxy

pytestmark = pytest.mark.e2e
BATCH = 20


class Stream:
    """Batches of trigger events, each customer's own, sent until stopped; a batch answered
    503 is sent again (the same event ids), as a client following Retry-After would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.acknowledged: set[str] = set()
        self.statuses: list[int] = []
        self.timeline: list[tuple[float, float, int]] = []
        self.longest = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        n = 0
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                customers = [f"c{n + i}" for i in range(BATCH)]
                events = [{"tenantId": "t", "type": "go", "customerId": c, "eventId": f"e-{c}"}
                          for c in customers]
                started = time.monotonic()
                try:
                    answer = http.post(f"{self.base}/events/batch", json={"events": events})
                    status = answer.status_code
                except httpx.TransportError:
                    status = 0  # no answer at all: counted, never acknowledged
                self.longest = max(self.longest, time.monotonic() - started)
                self.statuses.append(status)
                self.timeline.append((round(started, 2), round(time.monotonic() - started, 2), status))
                if status == 202:
                    self.acknowledged.update(customers)
                    n += BATCH
                else:
                    time.sleep(0.2)


def enrollments_by_customer(url: str, journey_id: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT customer_id, COUNT(*) FROM enrollments WHERE journey_id = %s "
            "GROUP BY customer_id", (journey_id,)).fetchall()
    return {customer: count for customer, count in rows}


def one_step_journey(url: str) -> str:
    reset_postgres(url)
    app = build_system(url).services.app
    jid = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey.id
    app.add_step(jid, "END", "done")
    app.activate(jid)
    app.close()
    return str(jid)


def restart_then_stop(proxy: Proxy) -> list[float]:
    """A restart (every connection dropped, refused for a second), then, three seconds
    on, the server away for six; when each began and when it came back."""
    marks = [round(time.monotonic(), 2)]
    proxy.cut()
    time.sleep(1)
    proxy.restore()
    time.sleep(3)
    marks.append(round(time.monotonic(), 2))
    proxy.cut()
    time.sleep(6)
    proxy.restore()
    marks.append(round(time.monotonic(), 2))
    return marks


def test_postgresql_restarted_then_away_for_seconds_loses_and_doubles_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    jid = one_step_journey(postgres_url)
    parts = urlsplit(postgres_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    through = parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}").geturl()
    port = free_port()
    api = Process("api", "--port", str(port), "--database", through, log=tmp_path / "api.log")
    scheduler = Process("scheduler", "--interval", "0.2", "--database", through,
                        log=tmp_path / "scheduler.log")
    pids = (api.popen.pid, scheduler.popen.pid)
    stream = Stream(f"http://127.0.0.1:{port}")
    try:
        wait_healthy(stream.base)
        stream.thread.start()
        time.sleep(2)
        marks = restart_then_stop(proxy)
        time.sleep(3)
        stream.stop.set()
        stream.thread.join(30)

        deadline = time.monotonic() + 60
        while True:
            enrolled = enrollments_by_customer(postgres_url, jid)
            if stream.acknowledged <= set(enrolled) or time.monotonic() > deadline:
                break
            time.sleep(0.5)

        assert 500 not in stream.statuses and 0 not in stream.statuses, stream.statuses
        assert 503 in stream.statuses, ("the outage was seen", marks, stream.timeline)
        assert stream.longest < 6, f"a request took {stream.longest:.1f} s"
        assert len(stream.acknowledged) >= 5 * BATCH
        assert stream.acknowledged <= set(enrolled), "an acknowledged event enrolled no one"
        assert set(enrolled.values()) == {1}, "a customer enrolled twice"
        assert (api.popen.poll(), scheduler.popen.poll()) == (None, None)
        assert (api.popen.pid, scheduler.popen.pid) == pids
        assert httpx.get(f"{stream.base}/ready", timeout=5).status_code == 200
    finally:
        stream.stop.set()
        assert api.stop() == 0, api.log()
        assert scheduler.stop() == 0, scheduler.log()
        proxy.close()


def stored_trigger_ids(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute(
            "SELECT originator_id FROM stored_events WHERE topic LIKE '%TriggerEvent.Received'")}


def test_serve_killed_mid_burst_three_times_keeps_every_acknowledged_write(
    tmp_path: Path
) -> None:
    path = tmp_path / "j.db"
    acknowledged: set[str] = set()
    for round_ in range(3):
        port = free_port()
        serve = Process("serve", "--port", str(port), "--database", f"sqlite:///{path}",
                        log=tmp_path / f"serve-{round_}.log")
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        stop = threading.Event()

        def burst(first: int, base: str = base, stop: threading.Event = stop,
                  round_: int = round_) -> None:
            n = first
            with httpx.Client(timeout=10) as http:
                while not stop.is_set():
                    events: list[dict[str, Any]] = [
                        {"tenantId": "t", "type": "go", "customerId": f"c{i}",
                         "eventId": f"r{round_}-{i}"} for i in range(n, n + BATCH)]
                    try:
                        answer = http.post(f"{base}/events/batch", json={"events": events})
                    except httpx.TransportError:
                        return  # killed: this batch was never acknowledged
                    if answer.status_code == 202:
                        acknowledged.update(e["eventId"] for e in events)
                    n += BATCH

        senders = [threading.Thread(target=burst, args=(k * 100_000,)) for k in range(3)]
        for sender in senders:
            sender.start()
        time.sleep(1.5)
        os.kill(serve.popen.pid, signal.SIGKILL)
        serve.popen.wait(10)
        stop.set()
        for sender in senders:
            sender.join(10)

    assert len(acknowledged) > 3 * BATCH
    stored = stored_trigger_ids(path)
    assert {trigger_event_id_for("t", event_id) for event_id in acknowledged} <= stored
    port = free_port()
    again = Process("serve", "--port", str(port), "--database", f"sqlite:///{path}",
                    log=tmp_path / "serve-after.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}")  # it starts on what the kills left
    finally:
        assert again.stop() == 0
