"""Builds the application, the read models, the runner and the scheduler for one database."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from eventsourcing.persistence import OperationalError
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from api.context import Services
from domain.advancing import Advancing
from domain.api_keys import Keys
from domain.application import Clock, JourneysApplication
from domain.delivery import Channel, RetryPolicy
from domain.exits import Exits
from domain.ids import IdFactory, random_id
from domain.manual_enrollment import ManualEnrolling
from domain.triggers import Triggers
from journeys.clock import system_clock
from journeys.settings import SettingsError, check_reachable, store_for, tune_collector
from journeys.settings import batch_size as parse_batch_size
from projections.customers import CustomersProjection
from projections.due_work import DueWorkProjection
from projections.enrollments import EnrollmentsProjection
from projections.following import Follower
from projections.journey_queries import TriggeredJourneys
from projections.journeys import JourneysProjection
from projections.keepers import Keepers
from projections.projection import Projection
from projections.replay import replay
from projections.runner import ProjectionRunner
from projections.waits import ConsistencyWait
from scheduler import matcher
from scheduler.channels import LogChannel, WebhookChannel
from scheduler.loop import Scheduler
from storage import receipts
from storage.database import Database
from storage.event_log import EventLog
from storage.postgres import PostgresDatabase, send_lists_as_binary_arrays
from storage.sqlite import SqliteDatabase, scratch_database

log = logging.getLogger("journeys")
# What a start-up's DDL may meet beside another process's batch, and outwait.
BUSY = ("database is locked", "deadlock detected")


def projections() -> list[Projection]:
    """Every read model, in the order they are created and rebuilt."""
    return [JourneysProjection(), EnrollmentsProjection(), CustomersProjection(),
            DueWorkProjection()]


def channel_from_environment() -> Channel:
    """The deployment's delivery channel: JOURNEYS_CHANNEL=log (default) or webhook."""
    kind = os.environ.get("JOURNEYS_CHANNEL", "log")
    if kind == "log":
        return LogChannel()
    if kind == "webhook":
        url = os.environ.get("JOURNEYS_WEBHOOK_URL")
        secret = os.environ.get("JOURNEYS_WEBHOOK_SECRET")
        if not url or not secret:
            raise SettingsError("the webhook channel needs JOURNEYS_WEBHOOK_URL and "
                                "JOURNEYS_WEBHOOK_SECRET")
        timeout = float(os.environ.get("JOURNEYS_WEBHOOK_TIMEOUT", "10"))
        try:
            return WebhookChannel(url, secret, timeout, clock=system_clock)
        except ValueError as error:
            raise SettingsError(f"JOURNEYS_WEBHOOK_SECRET: {error}") from None
    raise SettingsError(f"unknown JOURNEYS_CHANNEL {kind!r}: use log or webhook")


def retry_from_environment() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=int(os.environ.get("JOURNEYS_DELIVERY_MAX_ATTEMPTS", "5")),
        base=timedelta(seconds=float(os.environ.get("JOURNEYS_DELIVERY_BACKOFF_SECONDS", "2"))),
    )


TRANSCODER = "storage.transcoding:JourneysTranscoder"
RECORDERS = {"postgres": "storage.recorders:PostgresRecorder",
             "sqlite": "storage.recorders:SqliteRecorder"}


@dataclass
class System:
    """Everything one process may run: the API's services, the loop that follows the log
    and the scheduler."""

    services: Services
    follower: Follower
    scheduler: Scheduler

    @property
    def runner(self) -> ProjectionRunner:
        return self.services.runner


def _create_schema(app: JourneysApplication, database: Database,
                   runner: ProjectionRunner) -> None:
    """The event store's and the read models' tables, made idempotently at start-up, one
    process at a time. Processes started together can still collide beside another's
    batch: on SQLite the DDL's transaction, begun as a reader, is refused the write lock
    at once ("database is locked") when another process has committed since; on
    PostgreSQL it can deadlock with a batch. Either is retried, with backoff, for up to a
    minute before the command gives up; any other error (a file that cannot be opened, a
    server that refuses) ends it at once."""
    for attempt in Retrying(retry=retry_if_exception(_busy),
                            stop=stop_after_delay(60),
                            wait=wait_exponential(multiplier=0.05, max=2) + wait_random(0, 0.05),
                            before_sleep=before_sleep_log(log, logging.WARNING),
                            reraise=True):
        with attempt, database.schema_lock():
            app.recorder.create_table()  # type: ignore[attr-defined]
            receipts.create_table(database)
            runner.tracking.create_tables(followers=[matcher.NAME])


def _busy(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and any(b in str(error) for b in BUSY)


def build_system(
    database_url: str,
    clock: Clock = system_clock,
    new_id: IdFactory = random_id,
    consistency_timeout: float = 10.0,
    channel: Channel | None = None,
    retry: RetryPolicy | None = None,
    lease: timedelta | None = None,
    batch_size: int | None = None,
    create_tables: bool = True,
) -> System:
    store = store_for(database_url)
    check_reachable(store, create=create_tables)
    if store.dialect == "postgres":
        send_lists_as_binary_arrays()  # before the store's first connection
    app = JourneysApplication(
        # The tables are made below, one process at a time.
        env={**store.env, "CREATE_TABLE": "no", "TRANSCODER_TOPIC": TRANSCODER,
             "APPLICATION_RECORDER_TOPIC": RECORDERS[store.dialect]},
        clock=clock,
        new_id=new_id,
    )
    datastore = app.factory.datastore  # type: ignore[attr-defined]
    database: Database = (PostgresDatabase if store.dialect == "postgres" else SqliteDatabase)(datastore)
    log_ = EventLog(app, database)
    runner = ProjectionRunner(log_, database, projections(), clock=system_clock)
    if create_tables:
        _create_schema(app, database, runner)
    advancing = Advancing(app, log_, channel or channel_from_environment(),
                          retry or retry_from_environment())
    triggers = Triggers(app, clock, new_id, TriggeredJourneys(database), log_, advancing)
    waits = ConsistencyWait(database, runner.tracking, runner.progress)
    keepers = Keepers(database, system_clock)
    services = Services(
        app=app, triggers=triggers,
        enrolling=ManualEnrolling(app, app.journey, clock, new_id, log_),
        exits=Exits(app, app.journey, clock, log_),
        database=database, runner=runner, waits=waits, keys=Keys(app, clock, new_id),
        keepers=keepers, consistency_timeout=consistency_timeout)
    follower = Follower(runner, keepers, getattr(app.recorder, "channel_name", None))
    lease = lease or timedelta(seconds=float(os.environ.get("JOURNEYS_CLAIM_LEASE_SECONDS", "30")))
    batch_size = batch_size or parse_batch_size(os.environ.get("JOURNEYS_BATCH_SIZE", "200"))
    scheduler = Scheduler(triggers, advancing, runner, follower, waits, lease=lease,
                          lease_clock=system_clock, batch_size=batch_size)
    return System(services, follower, scheduler)


def build(
    database_url: str,
    clock: Clock = system_clock,
    new_id: IdFactory = random_id,
    consistency_timeout: float = 10.0,
) -> Services:
    return build_system(database_url, clock, new_id, consistency_timeout).services


def sqlite_path(database_url: str) -> str | None:
    """The file of a `sqlite:///PATH` URL; None for PostgreSQL."""
    store = store_for(database_url)
    return store.env["SQLITE_DBNAME"] if store.dialect == "sqlite" else None


def runner_into(system: System, names: Sequence[str], path: str) -> ProjectionRunner:
    """A runner of the named projections that reads `system`'s log and writes their read
    models, from position 0 and without secondary indexes, into the SQLite file `path`: a
    SQLite rebuild worker's own database, adopted afterwards (`ProjectionRunner.adopt`)."""
    runner = ProjectionRunner(system.runner.log, scratch_database(path),
                              [system.runner.projections[name] for name in names],
                              system.runner.batch_size)
    runner.tracking.create_tables()
    runner.reset(names, indexes=False)
    return runner


def replay_worker(url: str, names: list[str], into: str | None = None) -> int:
    """A worker process of `projections rebuild --workers` (`rebuild_in_workers`): replay
    the log into these projections, in the database itself or (SQLite) into the database
    file `into`."""
    system = build_system(url, create_tables=False)  # made by the parent, indexes after
    tune_collector()  # a spawned worker does not pass through `main`
    try:
        runner = runner_into(system, names, into) if into else system.runner.only(names)
        return replay(runner)
    finally:
        system.services.app.close()
