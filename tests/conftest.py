"""Fixtures shared by every suite: the two databases, a settable clock, a running service."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from falcon import testing

from api.app import create_app
from api.context import Services
from journeys.wiring import System, build_system
from scheduler.channels import LogChannel

POSTGRES_URL = os.environ.get(
    "JOURNEYS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/journeys_test"
)
REQUIRE_POSTGRES = os.environ.get("JOURNEYS_REQUIRE_POSTGRES", "") not in ("", "0", "no")


class Clock:
    """The injected clock: tests move it by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 12, 14, 9, 0, tzinfo=UTC))


def _postgres_admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl(), parts.path.lstrip("/")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable, empty-able PostgreSQL database, or a skip (a failure when required)."""
    import psycopg

    admin_url, dbname = _postgres_admin_url(POSTGRES_URL)
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
    except psycopg.OperationalError as error:
        message = (
            f"PostgreSQL unreachable at {POSTGRES_URL} ({error}); "
            "set JOURNEYS_TEST_POSTGRES_URL to run the PostgreSQL suites"
        )
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


def reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each integration test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journeys.db'}"
    url: str = request.getfixturevalue("postgres_url")
    reset_postgres(url)
    return url


@pytest.fixture
def channel() -> LogChannel:
    """The default channel; it remembers what it was handed."""
    return LogChannel()


@pytest.fixture
def system(database_url: str, clock: Clock, channel: LogChannel) -> Iterator[System]:
    built = build_system(database_url, clock=clock, consistency_timeout=10.0, channel=channel)
    yield built
    built.services.app.close()


@pytest.fixture
def services(system: System) -> Services:
    return system.services


@dataclass
class Running:
    services: Services
    client: testing.TestClient
    system: System


@pytest.fixture
def running(system: System, services: Services) -> Iterator[Running]:
    """The API with its projection runner following the log in a thread, as in `serve`."""
    stop = threading.Event()
    thread = threading.Thread(
        target=system.follower.run_forever, args=(stop,), kwargs={"interval": 0.05}, daemon=True
    )
    thread.start()
    yield Running(services, testing.TestClient(create_app(services)), system)
    stop.set()
    system.follower.nudge()
    thread.join(timeout=10)


@pytest.fixture
def client(running: Running) -> testing.TestClient:
    return running.client
