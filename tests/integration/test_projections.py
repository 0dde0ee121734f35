"""Read models are exactly-once, rebuildable from the log, and shared safely between runners."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.context import Services
from domain.enrolling import IncomingEvent
from journeys.wiring import System, build_system, runner_into
from projections.database import Database
from tests.conftest import Clock

TABLES = {"journeys": "id", "journey_steps": "id"}


def dump(database: Database) -> dict[str, list[dict[str, Any]]]:
    return {
        table: database.query(f"SELECT * FROM {table} ORDER BY {key}")
        for table, key in TABLES.items()
    }


def write_history(services: Services, clock: Clock, journeys: int = 5) -> None:
    """A varied history: edits, steps added, moved, removed, and every lifecycle state."""
    app = services.app
    for n in range(journeys):
        journey = app.create_journey(tenant_id=f"t{n % 2}", name=f"j{n}", trigger_type="x").journey
        jid = journey.id
        clock.advance(minutes=1)
        a = app.add_step(jid, "SEND", "a", {"channel": "EMAIL", "templateId": "x"}).detail
        b = app.add_step(jid, "WAIT", "b", {"duration": "1 day"}).detail
        c = app.add_step(jid, "END", "c", after_step_id=a.id).detail
        app.reorder_steps(jid, [a.id, b.id, c.id])
        app.update_step(jid, a.id, {"name": f"renamed {n}"})
        app.update_journey(jid, {"description": f"d{n}", "timezone": "Europe/London"})
        if n % 5 == 4:
            app.remove_step(jid, b.id)
            app.delete_journey(jid)
            continue
        if n % 5 >= 1:
            app.activate(jid)
        if n % 5 >= 2:
            app.pause(jid)
        if n % 5 >= 3:
            app.archive(jid)


def index_names(database: Database) -> set[str]:
    if database.dialect == "postgres":
        rows = database.query("SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'")
    else:
        rows = database.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row["name"] for row in rows}


def test_a_rebuild_makes_the_secondary_indexes_again_after_the_replay(
    services: Services, clock: Clock
) -> None:
    write_history(services, clock, journeys=2)
    before = index_names(services.database)

    services.runner.rebuild(list(services.runner.projections))

    assert {"enrollments_by_journey_status", "due_work_by_due_at"} <= before
    assert index_names(services.database) == before


def test_a_rebuild_from_the_log_gives_identical_read_models(
    services: Services, clock: Clock
) -> None:
    write_history(services, clock)
    services.runner.catch_up()
    before = dump(services.database)

    applied = services.runner.rebuild(["journeys"])

    assert applied == services.runner.head()
    assert dump(services.database) == before
    assert len(before["journeys"]) == 4
    assert {r["status"] for r in before["journeys"]} == {"DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"}


def test_positions_reach_the_head_and_report_lag(services: Services, clock: Clock) -> None:
    write_history(services, clock, journeys=2)

    names = set(services.runner.projections)
    head = services.runner.head()
    assert head > 0
    assert services.runner.positions() == dict.fromkeys(names, 0)
    assert services.runner.positions_and_head() == (dict.fromkeys(names, 0), head)
    assert services.runner.wait_for(services.runner.head(), timeout=0.05) is False
    services.runner.catch_up()
    assert services.runner.positions() == dict.fromkeys(names, services.runner.head())
    assert services.runner.positions_and_head() == (dict.fromkeys(names, head), head)
    assert services.runner.wait_for(services.runner.head(), timeout=0.05) is True


def test_two_runners_on_one_database_apply_each_event_once(
    services: Services, clock: Clock, database_url: str
) -> None:
    other = build_system(database_url, clock=clock).services
    try:
        for runner in (services.runner, other.runner):
            runner.batch_size = 7
        write_history(services, clock, journeys=10)
        failures: list[BaseException] = []
        head = services.runner.head()
        behind: list[int] = []

        def follow(runner: Any) -> None:
            try:
                runner.catch_up()
                # "everything recorded so far", even when another runner applied some of it
                behind.append(head - min(runner.positions().values()))
            except BaseException as error:  # noqa: BLE001 -- reported by the assertion below
                failures.append(error)

        threads = [threading.Thread(target=follow, args=(r,)) for r in
                   (services.runner, other.runner, services.runner)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert failures == []
        assert behind == [0, 0, 0], "each catch_up returned only once at the head"
        assert set(services.runner.positions().values()) == {services.runner.head()}
        raced = dump(services.database)
        services.runner.rebuild(["journeys"])
        assert dump(services.database) == raced
    finally:
        other.app.close()


def test_concurrent_commands_on_one_journey_all_land(
    services: Services, clock: Clock
) -> None:
    journey = services.app.create_journey(tenant_id="t", name="n", trigger_type="x").journey
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            services.app.add_step(journey.id, "SEND", f"s{n}",
                                  {"channel": "EMAIL", "templateId": "x"})
        except BaseException as error:  # noqa: BLE001 -- reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    services.runner.catch_up()
    assert len(services.app.journey(journey.id).steps) == 8
    steps = services.database.query(
        "SELECT step_number FROM journey_steps WHERE journey_id = ? ORDER BY step_number",
        (journey.id,),
    )
    assert [r["step_number"] for r in steps] == list(range(1, 9))


def test_a_rebuild_recreates_tables_from_their_current_definition(
    services: Services, clock: Clock
) -> None:
    write_history(services, clock, journeys=2)
    services.runner.catch_up()
    with services.database.transaction() as cursor:
        cursor.execute("ALTER TABLE journeys ADD COLUMN stale_column TEXT")

    services.runner.rebuild(["journeys"])

    row = services.database.query("SELECT * FROM journeys")[0]
    assert "stale_column" not in row
    assert len(services.database.query("SELECT * FROM journeys")) == 2


def test_a_read_model_missing_a_table_is_replayed_from_the_start(
    system: System, clock: Clock, database_url: str
) -> None:
    """decisions/0029: a database whose enrollments read model was applied before it had
    `journey_stats` (the counters were the journeys read model's) gets its counters when
    a process of the new version starts; the other read models keep their positions."""
    app, runner = system.services.app, system.runner
    jid = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey.id
    app.add_step(jid, "WAIT", "nap", {"duration": "1 day"})
    app.add_step(jid, "END", "done")
    app.activate(jid)
    app.ingest([IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(7)])
    system.scheduler.tick(clock.now)
    runner.catch_up()
    enrollments = system.services.database.query("SELECT * FROM enrollments ORDER BY id")
    with system.services.database.transaction() as cursor:
        cursor.execute("DROP TABLE journey_stats")
    positions = runner.positions()

    again = build_system(database_url, clock=clock)
    try:
        assert again.runner.positions() == {**positions, "enrollments": 0}
        again.runner.catch_up()
        database = again.services.database
        assert database.query("SELECT * FROM enrollments ORDER BY id") == enrollments
        assert database.query("SELECT total_enrolled, active_enrollments FROM journey_stats") \
            == [{"total_enrolled": 7, "active_enrollments": 7}]
    finally:
        again.services.app.close()


@pytest.fixture
def writer(services: Services, clock: Clock, database_url: str) -> Iterator[Services]:
    """PostgreSQL: a second process's services on the same database (SQLite has no NOTIFY;
    its waits poll, and these tests are skipped)."""
    if services.database.dialect != "postgres":
        pytest.skip("SQLite has no NOTIFY; its waits poll")
    other = build_system(database_url, clock=clock).services
    yield other
    other.app.close()


def _listening_watch(services: Services) -> Any:
    watch = services.runner._watch
    assert watch is not None
    services.runner.wait_for(0, timeout=0.1)  # starts listening
    for _ in range(100):
        if watch.listening:
            break
        threading.Event().wait(0.05)
    assert watch.listening
    return watch


def test_a_wait_is_woken_by_another_process_committing_a_batch(
    services: Services, clock: Clock, writer: Services
) -> None:
    """PostgreSQL: the waiter learns of the other runner's batch by NOTIFY, not by polling."""
    watch = _listening_watch(services)
    write_history(writer, clock, journeys=1)
    generation = watch.generation
    result: list[bool] = []
    waiter = threading.Thread(
        target=lambda: result.append(services.runner.wait_for(writer.runner.head(), 10)))
    waiter.start()
    writer.runner.catch_up()
    waiter.join(timeout=10)

    assert result == [True]
    assert watch.generation > generation, "the commit was announced to the waiter"


def test_stale_planner_statistics_are_brought_up_to_date(
    services: Services, clock: Clock
) -> None:
    """With autovacuum off, a table filled since it was made has no statistics, and the
    planner scans the whole event table to load a batch of aggregates."""
    database = services.database
    if database.dialect != "postgres":
        pytest.skip("SQLite's planner uses the indexes without statistics")
    table = services.app.recorder.events_table_name  # type: ignore[attr-defined]
    write_history(services, clock, journeys=10)  # about 150 events
    analyzed: list[str] = []
    for _ in range(50):  # the server publishes its change counts within a second or so
        analyzed = database.analyze_stale([table, "journeys"])
        if table in analyzed:
            break
        threading.Event().wait(0.1)

    assert table in analyzed
    row = database.query_one("SELECT last_analyze, n_mod_since_analyze FROM pg_stat_user_tables "
                             "WHERE relname = ?", (table,))
    assert row is not None and row["last_analyze"] is not None
    assert table not in database.analyze_stale([table]), "fresh statistics are left alone"


def test_a_catch_up_that_nobody_can_finish_fails_instead_of_waiting_forever(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import projections.runner

    monkeypatch.setattr(projections.runner, "STALL_LIMIT", 0.2)
    write_history(services, clock, journeys=1)
    with services.database.transaction() as cursor:  # no runner can move this position
        cursor.execute("DELETE FROM projection_tracking WHERE name = 'journeys'")

    with pytest.raises(RuntimeError, match="below the head"):
        services.runner.catch_up()


def test_a_read_keeps_the_connections_prepared_statements(services: Services) -> None:
    """psycopg answers every ROLLBACK with DEALLOCATE ALL: reads that rolled back made the
    library's prepared statements (the event insert, the log reads) be parsed again."""
    database = services.database
    if database.dialect != "postgres":
        pytest.skip("SQLite has no server-side prepared statements")
    with database.transaction(commit=False) as cursor:
        raw = cursor._raw
        raw.execute("SELECT 1 AS one", prepare=True)
        connection = raw.connection
    row = connection.execute("SELECT count(*) AS n FROM pg_prepared_statements").fetchone()

    assert row is not None and row["n"] >= 1


def test_a_wait_is_answered_by_the_batch_announcement_without_reading_positions(
    services: Services, clock: Clock, writer: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: each batch announces its position, so a waiting command reads the
    tracking table once, not once per batch."""
    _listening_watch(services)
    write_history(writer, clock, journeys=1)
    reads = []
    first_read = threading.Event()
    positions = services.runner.positions

    def counted() -> dict[str, int]:
        reads.append(1)
        found = positions()
        first_read.set()
        return found

    monkeypatch.setattr(services.runner, "positions", counted)
    result: list[bool] = []
    waiter = threading.Thread(
        target=lambda: result.append(services.runner.wait_for(writer.runner.head(), 10)))
    waiter.start()
    assert first_read.wait(5)
    writer.runner.catch_up()
    waiter.join(timeout=10)

    assert result == [True]
    assert len(reads) == 1, "the announcement answered the wait"


def test_a_wait_reads_no_positions_once_every_projection_was_announced(
    services: Services, clock: Clock, writer: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: having heard of every projection, a wait starts without a read; what is
    still to be applied is announced."""
    watch = _listening_watch(services)
    write_history(writer, clock, journeys=1)
    writer.runner.catch_up()  # one batch of every projection, announced
    assert services.runner.wait_for(writer.runner.head(), 10)
    assert watch.knows(services.runner.projections)
    reads: list[float] = []
    positions = services.runner.positions

    def counted() -> dict[str, int]:
        reads.append(time.monotonic())
        return positions()

    monkeypatch.setattr(services.runner, "positions", counted)
    write_history(writer, clock, journeys=1)
    head = writer.runner.head()
    result: list[bool] = []
    started = time.monotonic()
    waiter = threading.Thread(target=lambda: result.append(services.runner.wait_for(head, 10)))
    waiter.start()
    writer.runner.catch_up()
    waiter.join(timeout=10)

    assert result == [True]
    # (a read 50 ms on is the fallback when nothing was announced; a slow machine may)
    assert [t for t in reads if t - started < 0.04] == [], "no read to start the wait"


def test_a_rebuild_makes_the_waits_forget_the_announced_positions(
    services: Services, clock: Clock
) -> None:
    if services.database.dialect != "postgres":
        pytest.skip("SQLite has no NOTIFY; its waits poll")
    watch = _listening_watch(services)
    write_history(services, clock, journeys=1)
    head = services.runner.head()
    services.runner.catch_up()
    assert services.runner.wait_for(head, timeout=5)
    generation = watch.generation

    services.runner.reset(["journeys"])
    assert watch.wait(generation, timeout=5), "the reset was announced"

    assert not watch.reached(services.runner.projections, head)
    assert not services.runner.wait_for(head, timeout=0.2), "journeys is back at 0"


def test_a_wait_in_a_process_that_follows_the_log_is_answered_by_its_own_commit(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`journeys serve`: the runner loop in this process wakes the waits of its commands;
    the waiting thread reads no positions (on SQLite it used to poll every few ms)."""
    runner = services.runner
    stop = threading.Event()
    loop = threading.Thread(target=runner.run_forever, args=(stop, 5.0), daemon=True)
    loop.start()
    try:
        runner.wait_for(runner.head(), timeout=10)  # the loop is running and caught up
        write_history(services, clock, journeys=1)
        waiting = threading.get_ident()
        reads_by_waiter = []
        positions = runner.positions

        def counted() -> dict[str, int]:
            if threading.get_ident() == waiting:
                reads_by_waiter.append(1)
            return positions()

        monkeypatch.setattr(runner, "positions", counted)
        head = runner.head()

        assert runner.wait_for(head, timeout=10)
        assert min(positions().values()) >= head
        assert reads_by_waiter == [], "the loop's commit answered the wait"
    finally:
        stop.set()
        runner.nudge()
        loop.join(timeout=10)


@pytest.fixture
def following(services: Services) -> Iterator[Any]:
    """The runner's loop following the log in a thread, as beside `journeys scheduler`."""
    runner = services.runner
    stop = threading.Event()
    loop = threading.Thread(target=runner.run_forever, args=(stop, 0.05), daemon=True)
    loop.start()
    assert runner.wait_for(runner.head(), timeout=10)  # running and caught up
    yield runner
    runner.give_way(False)
    stop.set()
    runner.nudge()
    loop.join(timeout=10)


def caught_up_within(runner: Any, head: int, seconds: float) -> bool:
    """Whether the positions reach `head` within `seconds`, read without waiting (a
    consistency wait would release a held loop)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if min(runner.positions().values()) >= head:
            return True
        time.sleep(0.02)
    return False


def written_in_a_burst(runner: Any, services: Services, clock: Clock, hold: float) -> int:
    """Start a burst that holds `runner`'s loop for `hold` seconds, write some history
    meanwhile and nudge the loop; the log's head after it."""
    runner.burst_hold = hold
    runner.give_way(True)
    write_history(services, clock, journeys=1)
    runner.nudge()
    return int(runner.head())


def test_the_loop_holds_its_batches_while_the_scheduler_of_its_process_is_in_a_burst(
    services: Services, clock: Clock, following: Any
) -> None:
    runner = following
    head = written_in_a_burst(runner, services, clock, hold=60.0)

    assert not caught_up_within(runner, head, 0.5), "held while the burst lasts"

    runner.give_way(False)
    assert caught_up_within(runner, head, 10), "applied when the burst ends"


def test_a_consistency_wait_is_not_held_by_a_burst(
    services: Services, clock: Clock, following: Any
) -> None:
    runner = following
    head = written_in_a_burst(runner, services, clock, hold=60.0)
    started = time.monotonic()

    assert runner.wait_for(head, timeout=10)
    assert time.monotonic() - started < 5, "the waiting command let the loop go on"


def test_a_burst_holds_the_loop_for_burst_hold_seconds_at_most(
    services: Services, clock: Clock, following: Any
) -> None:
    runner = following
    head = written_in_a_burst(runner, services, clock, hold=0.3)  # and it never ends

    assert caught_up_within(runner, head, 10)


def test_a_reset_makes_this_process_forget_what_its_loop_applied(
    services: Services, clock: Clock
) -> None:
    runner = services.runner
    write_history(services, clock, journeys=1)
    head = runner.head()
    stop = threading.Event()
    loop = threading.Thread(target=runner.run_forever, args=(stop, 5.0), daemon=True)
    loop.start()
    try:
        assert runner.wait_for(head, timeout=10)
    finally:
        stop.set()
        runner.nudge()
        loop.join(timeout=10)
    watch = runner._watch
    generation = watch.generation if watch else 0

    runner.reset(["journeys"])

    if watch:  # PostgreSQL: the announcement of the reset is delivered after its commit
        assert watch.wait(generation, timeout=5)
    with runner._progress:  # as if a loop followed again, having applied nothing since
        runner._following += 1
    try:
        assert not runner.wait_for(head, timeout=0.3), "journeys is back at 0"
    finally:
        with runner._progress:
            runner._following -= 1


def test_a_replay_takes_larger_batches_on_sqlite_then_restores(services: Services) -> None:
    from projections.runner import REPLAY_BATCH

    runner = services.runner
    batch_size = runner.batch_size

    with runner.replaying():
        assert runner.batch_size == max(batch_size, REPLAY_BATCH[services.database.dialect])

    assert runner.batch_size == batch_size


def test_read_models_made_in_another_sqlite_file_are_adopted_unless_replayed_here_meanwhile(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    """SQLite's `rebuild --workers`: a worker's own file is copied in, with its tracking;
    not if a runner of this database has applied a batch of those read models since."""
    if system.services.database.dialect != "sqlite":
        pytest.skip("PostgreSQL's rebuild workers write into the database itself")
    runner = system.runner
    write_history(system.services, clock, journeys=3)
    runner.catch_up()
    before = dump(system.services.database)
    names = ["journeys", "customers"]

    made = runner_into(system, names, str(tmp_path / "made.db"))
    made.catch_up()
    runner.reset(names)
    assert dump(system.services.database) == {table: [] for table in TABLES}

    assert runner.adopt(str(tmp_path / "made.db"), names)
    assert dump(system.services.database) == before
    assert runner.positions()["journeys"] == runner.head()

    runner.reset(names)
    runner.only(names).run_once()  # a runner here replays them meanwhile
    replayed = dump(system.services.database)

    assert not runner.adopt(str(tmp_path / "made.db"), names)
    assert dump(system.services.database) == replayed == before, "nothing copied twice"


def test_a_sqlite_rebuild_worker_replays_while_the_database_is_being_written(
    system: System, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    """Its parent resets the read models beside the replay, a write transaction that
    lasts half a minute at a million customers: the worker must not need the database's
    write lock, to start or to replay (it writes only into its own file)."""
    import sqlite3

    from journeys.cli import _catch_up_only
    from journeys.wiring import sqlite_path

    path = sqlite_path(database_url)
    if path is None:
        pytest.skip("PostgreSQL's rebuild workers write into the database itself")
    write_history(system.services, clock, journeys=2)
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the parent's reset, holding the write lock
    thresholds = gc.get_threshold()  # a worker process tunes its collector
    try:
        started = time.monotonic()
        applied = _catch_up_only(database_url, ["journeys", "customers"],
                                 str(tmp_path / "made.db"))
        took = time.monotonic() - started
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        writer.execute("ROLLBACK")
        writer.close()

    assert applied == system.runner.head()
    assert took < 4, "the worker waited for the write lock (busy timeout: 5 s)"


def test_a_sqlite_rebuild_workers_own_file_is_written_without_journal_or_flushes(
    tmp_path: Path
) -> None:
    """Thrown away unless its worker finished, it needs neither (`decisions/0019`)."""
    from journeys.wiring import scratch_database

    database = scratch_database(str(tmp_path / "made.db"))
    with database.transaction() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")

    assert database.query("PRAGMA journal_mode") == [{"journal_mode": "off"}]
    assert database.query("PRAGMA synchronous") == [{"synchronous": 0}]
    assert database.query("SELECT n FROM t") == [{"n": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made.db"], "no log beside it"


def test_a_checkpoint_empties_sqlite_write_ahead_log(
    system: System, clock: Clock, database_url: str
) -> None:
    from journeys.wiring import sqlite_path

    write_history(system.services, clock, journeys=2)
    system.runner.catch_up()
    path = sqlite_path(database_url)

    system.services.database.checkpoint()  # PostgreSQL: nothing to do

    if path:
        assert Path(path + "-wal").stat().st_size == 0
    assert system.runner.positions()["journeys"] == system.runner.head()


def test_start_up_ddl_refused_by_a_busy_database_is_retried(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process starting beside another's batch can be refused its DDL (SQLite: "database
    is locked" at once, when its reading transaction cannot become the writer; PostgreSQL:
    a deadlock). It tries again instead of exiting."""
    from eventsourcing.persistence import OperationalError

    from projections.runner import ProjectionRunner

    create_tables = ProjectionRunner.create_tables
    refusals: list[str] = []

    def refused_twice(self: ProjectionRunner) -> None:
        if len(refusals) < 2:
            refusals.append("database is locked")
            raise OperationalError("database is locked")
        create_tables(self)

    monkeypatch.setattr(ProjectionRunner, "create_tables", refused_twice)
    system = build_system(database_url)
    try:
        assert len(refusals) == 2
        assert set(system.runner.positions()) == set(system.runner.projections)
    finally:
        system.services.app.close()


@pytest.mark.parametrize("error", ["ProgrammingError", "OperationalError"])
def test_start_up_ddl_does_not_retry_what_waiting_cannot_mend(
    database_url: str, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    """A syntax error, or a database file that cannot be opened, ends the command at once."""
    from eventsourcing import persistence

    from projections.runner import ProjectionRunner

    failure = getattr(persistence, error)
    calls: list[int] = []

    def broken(self: ProjectionRunner) -> None:
        calls.append(1)
        raise failure("unable to open database file")

    monkeypatch.setattr(ProjectionRunner, "create_tables", broken)
    with pytest.raises(failure):
        build_system(database_url)
    assert calls == [1]


ENROLLMENT_TABLES = {"enrollments": "id", "enrollment_steps": "enrollment_id, seq",
                     "step_stats": "journey_id, step_id",
                     "step_variant_stats": "journey_id, step_id, variant",
                     "journey_stats": "journey_id", "due_work": "enrollment_id"}


def test_enrollments_replayed_aggregate_by_aggregate_equal_the_log_applied_in_order(
    system: System, clock: Clock
) -> None:
    """decisions/0027: the enrollments and due-work read models replayed one enrollment at
    a time, then caught up in log order past that replay's head, are the read models the
    log makes in order; a replay by aggregate runs only from position 0."""
    if system.services.database.dialect != "postgres":
        pytest.skip("PostgreSQL's replay (SQLite replays into a file of its own)")
    t0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)
    clock.now = t0
    app, runner = system.services.app, system.runner
    jid = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey.id
    app.add_step(jid, "SEND", "hi", {"channel": "EMAIL", "templateId": "hi"})
    app.add_step(jid, "WAIT", "an hour", {"duration": "1 hour"})
    app.add_step(jid, "CONDITION", "keen?",
                 {"rules": [{"field": "score", "operator": "gte", "value": 50}]})
    app.add_step(jid, "SPLIT", "a/b", {"splits": [{"percentage": 50}, {"percentage": 50}]})
    app.add_step(jid, "END", "done")
    app.activate(jid)

    def arrive(first: int, count: int) -> None:
        app.ingest([IncomingEvent("t", "go", f"c{n}", None, None, {"score": n * 7 % 100}, None)
                    for n in range(first, first + count)])

    arrive(0, 30)
    system.scheduler.tick(clock.now)
    app.exit_customer(jid, "c1", "t")
    clock.advance(minutes=30)
    arrive(30, 20)
    system.scheduler.tick(clock.now)
    system.scheduler.tick(t0 + timedelta(minutes=70))  # the first 30 (28 still active) go on
    names = ["enrollments", "due_work"]
    only = runner.only(names)
    only.reset(names, indexes=False)

    with only.replaying():
        head = runner.head()
        assert only.replay_by_aggregate() == head
        assert only.positions() == dict.fromkeys(names, head)
        assert only.replay_by_aggregate() == 0  # not from position 0

    app.exit_customer(jid, "c40", "t")  # after that replay's head: applied in log order
    with only.replaying():
        only.catch_up()
    only.create_indexes(names)
    by_aggregate = {t: runner.database.query(f"SELECT * FROM {t} ORDER BY {k}")
                    for t, k in ENROLLMENT_TABLES.items()}

    only.reset(names)
    only.catch_up()  # not replaying: batch after batch, in log order
    in_order = {t: runner.database.query(f"SELECT * FROM {t} ORDER BY {k}")
                for t, k in ENROLLMENT_TABLES.items()}

    assert by_aggregate == in_order
    assert len(in_order["enrollments"]) == 50
    assert {r["status"] for r in in_order["enrollments"]} == {"COMPLETED", "EXITED", "ACTIVE"}
    assert len(in_order["step_variant_stats"]) == 2
    assert len(in_order["due_work"]) == 19  # the later 20 wait, but for c40
    assert in_order["journey_stats"] == [{
        "journey_id": jid, "total_enrolled": 50, "total_completed": 29, "total_exited": 2,
        "total_failed": 0, "active_enrollments": 19}]


def test_a_postgresql_rebuild_gives_the_projections_of_one_aggregate_to_one_worker(
    system: System,
) -> None:
    from journeys.cli import _share, _units

    groups = _share(_units(system.runner, list(system.runner.projections)), 2)
    if system.runner.database.dialect == "postgres":
        assert sorted(map(sorted, groups)) == [["customers", "journeys"],
                                               ["due_work", "enrollments"]]
    else:
        assert sorted(map(sorted, groups)) == [["customers", "due_work", "journeys"],
                                               ["enrollments"]]
