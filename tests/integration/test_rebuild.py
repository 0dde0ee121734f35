"""A rebuild from the log gives the read models the log made, however it is done: in this
process, by worker processes, aggregate by aggregate, or by a newer version of the code."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from api.context import Services
from domain.triggers import IncomingEvent
from journeys.wiring import System, build_system, replay_worker, runner_into, sqlite_path
from projections.rebuild import adopt, rebuild, rebuild_in_workers, share, units
from projections.replay import replay
from storage.sqlite import scratch_database
from tests.conftest import Clock
from tests.integration.history import TABLES, dump, index_names, write_history

ENROLLMENT_TABLES = {"enrollments": "id", "enrollment_steps": "enrollment_id, seq",
                     "step_stats": "journey_id, step_id",
                     "step_variant_stats": "journey_id, step_id, variant",
                     "journey_stats": "journey_id", "due_work": "enrollment_id",
                     "journey_series": "journey_id, bucket", "messages": "id"}
T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def engine_history(system: System, clock: Clock) -> str:
    """Fifty customers through a journey of every step kind, some exited, some still waiting;
    returns the journey's id."""
    clock.now = T0
    services = system.services
    app = services.app
    jid = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey.id
    app.add_step(jid, "SEND", "hi", {"channel": "EMAIL", "templateId": "hi"})
    app.add_step(jid, "WAIT", "an hour", {"duration": "1 hour"})
    app.add_step(jid, "CONDITION", "keen?",
                 {"rules": [{"field": "score", "operator": "gte", "value": 50}]})
    app.add_step(jid, "SPLIT", "a/b", {"splits": [{"percentage": 50}, {"percentage": 50}]})
    app.add_step(jid, "END", "done")
    app.activate(jid)

    def arrive(first: int, count: int) -> None:
        services.triggers.ingest([IncomingEvent("t", "go", f"c{n}", None, None,
                                                {"score": n * 7 % 100}, None)
                                  for n in range(first, first + count)])

    arrive(0, 30)
    system.scheduler.tick(clock.now)
    services.exits.exit_customer(jid, "c1", "t")
    clock.advance(minutes=30)
    arrive(30, 20)
    system.scheduler.tick(clock.now)
    system.scheduler.tick(T0 + timedelta(minutes=70))  # the first 30 (28 still active) go on
    return jid


def test_a_rebuild_from_the_log_gives_identical_read_models(
    services: Services, clock: Clock
) -> None:
    write_history(services, clock)
    services.runner.catch_up()
    before = dump(services.database)

    applied = rebuild(services.runner, ["journeys"])

    assert applied == services.runner.head()
    assert dump(services.database) == before
    assert len(before["journeys"]) == 4
    assert {r["status"] for r in before["journeys"]} == {"DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"}


def test_a_rebuild_makes_the_secondary_indexes_again_after_the_replay(
    services: Services, clock: Clock
) -> None:
    write_history(services, clock, journeys=2)
    before = index_names(services.database)

    rebuild(services.runner, list(services.runner.projections))

    assert {"enrollments_by_journey_status", "due_work_by_due_at"} <= before
    assert index_names(services.database) == before


def test_a_rebuild_recreates_tables_from_their_current_definition(
    services: Services, clock: Clock
) -> None:
    write_history(services, clock, journeys=2)
    services.runner.catch_up()
    with services.database.transaction() as cursor:
        cursor.execute("ALTER TABLE journeys ADD COLUMN stale_column TEXT")

    rebuild(services.runner, ["journeys"])

    rows = services.database.query("SELECT * FROM journeys")
    assert "stale_column" not in rows[0]
    assert len(rows) == 2


def test_a_rebuild_by_worker_processes_gives_the_read_models_the_log_made(
    system: System, clock: Clock, database_url: str
) -> None:
    """`projections rebuild --workers 2`: on SQLite each worker writes a file of its own,
    copied in at the end; on PostgreSQL into the database itself, the enrollments and
    their due work replayed aggregate by aggregate."""
    engine_history(system, clock)
    write_history(system.services, clock, journeys=3)
    runner = system.runner
    runner.catch_up()
    tables = {**TABLES, **ENROLLMENT_TABLES, "customers": "id"}
    before = dump(system.services.database, tables)

    groups = share(units(runner, list(runner.projections)), 2)
    applied = rebuild_in_workers(runner, groups, partial(replay_worker, database_url),
                                 sqlite_path(database_url))

    assert applied == runner.head()
    assert dump(system.services.database, tables) == before
    assert set(runner.positions().values()) == {runner.head()}


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
    system.services.triggers.ingest([IncomingEvent("t", "go", f"c{n}", None, None, {}, None)
                                     for n in range(7)])
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

    assert adopt(runner, str(tmp_path / "made.db"), names)
    assert dump(system.services.database) == before
    assert runner.positions()["journeys"] == runner.head()

    runner.reset(names)
    runner.only(names).run_once()  # a runner here replays them meanwhile
    replayed = dump(system.services.database)

    assert not adopt(runner, str(tmp_path / "made.db"), names)
    assert dump(system.services.database) == replayed == before, "nothing copied twice"


def test_a_sqlite_rebuild_worker_replays_while_the_database_is_being_written(
    system: System, clock: Clock, database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its parent resets the read models beside the replay, a write transaction that
    lasts half a minute at a million customers: the worker must not need the database's
    write lock, to start or to replay (it writes only into its own file)."""
    path = sqlite_path(database_url)
    if path is None:
        pytest.skip("PostgreSQL's rebuild workers write into the database itself")
    monkeypatch.setenv("SQLITE_LOCK_TIMEOUT", "1")  # a worker that needs the lock fails soon
    monkeypatch.setattr("journeys.wiring.tune_collector", lambda: None)  # this process's own
    write_history(system.services, clock, journeys=2)
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the parent's reset, holding the write lock
    try:
        applied = replay_worker(database_url, ["journeys", "customers"], str(tmp_path / "made.db"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert applied == system.runner.head()


def test_a_sqlite_rebuild_workers_own_file_keeps_no_journal_beside_it(tmp_path: Path) -> None:
    """Thrown away unless its worker finished, it needs no journal (`decisions/0019`)."""
    database = scratch_database(str(tmp_path / "made.db"))
    with database.transaction() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")

    assert database.query("SELECT n FROM t") == [{"n": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made.db"], "no log beside it"


def test_a_checkpoint_empties_sqlite_write_ahead_log(
    system: System, clock: Clock, database_url: str
) -> None:
    write_history(system.services, clock, journeys=2)
    system.runner.catch_up()
    path = sqlite_path(database_url)

    system.services.database.checkpoint()  # PostgreSQL: nothing to do

    if path:
        assert Path(path + "-wal").stat().st_size == 0
    assert system.runner.positions()["journeys"] == system.runner.head()


def test_enrollments_replayed_aggregate_by_aggregate_equal_the_log_applied_in_order(
    system: System, clock: Clock
) -> None:
    """decisions/0027: the enrollments and due-work read models replayed from position 0
    (on PostgreSQL aggregate by aggregate, then in log order past that replay's head) are
    the read models the log makes in order."""
    jid = engine_history(system, clock)
    runner = system.runner
    names = ["enrollments", "due_work"]
    only = runner.only(names)
    only.reset(names, indexes=False)

    assert replay(only) == runner.head()
    system.services.exits.exit_customer(jid, "c40", "t")  # after the replay's head
    only.catch_up()
    only.tracking.create_indexes(names)
    replayed = dump(runner.database, ENROLLMENT_TABLES)

    only.reset(names)
    only.catch_up()  # batch after batch, in log order
    in_order = dump(runner.database, ENROLLMENT_TABLES)

    assert replayed == in_order
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
    groups = share(units(system.runner, list(system.runner.projections)), 2)
    if system.runner.database.dialect == "postgres":
        assert sorted(map(sorted, groups)) == [["customers", "journeys"],
                                               ["due_work", "enrollments"]]
    else:
        assert sorted(map(sorted, groups)) == [["customers", "due_work", "journeys"],
                                               ["enrollments"]]


def test_a_read_model_missing_a_column_is_replayed_from_the_start(
    system: System, clock: Clock, database_url: str
) -> None:
    """A table a new version gives a column (here the history's `step_name`) is made again
    and its read model replayed, as a missing table is."""
    engine_history(system, clock)
    system.runner.catch_up()
    before = dump(system.services.database, ENROLLMENT_TABLES)
    with system.services.database.transaction() as cursor:
        cursor.execute("DROP TABLE enrollment_steps")
        cursor.execute("CREATE TABLE enrollment_steps (enrollment_id TEXT NOT NULL, "
                       "seq INTEGER NOT NULL, step_id TEXT NOT NULL, step_type TEXT, "
                       "status TEXT NOT NULL, started_at TEXT NOT NULL, completed_at TEXT, "
                       "outcome TEXT NOT NULL, PRIMARY KEY (enrollment_id, seq))")

    again = build_system(database_url, clock=clock)
    try:
        assert again.runner.positions()["enrollments"] == 0
        again.runner.catch_up()
        assert dump(again.services.database, ENROLLMENT_TABLES) == before
    finally:
        again.services.app.close()
