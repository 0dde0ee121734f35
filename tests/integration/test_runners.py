"""Read models are applied exactly once, however many runners follow the log, and the
schema is made safely by processes starting together."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing import persistence

from api.context import Services
from journeys.wiring import build_system
from projections.tracking import Tracking
from tests.conftest import Clock
from tests.integration.history import dump, write_history


def test_positions_reach_the_head_and_report_lag(services: Services, clock: Clock) -> None:
    write_history(services, clock, journeys=2)

    runner = services.runner
    names = set(runner.projections)
    head = runner.head()
    assert head > 0
    assert runner.positions() == dict.fromkeys(names, 0)
    assert runner.tracking.positions_and_head() == (dict.fromkeys(names, 0), head)
    assert services.waits.wait_for(head, timeout=0.05) is False
    runner.catch_up()
    assert runner.positions() == dict.fromkeys(names, head)
    assert runner.tracking.positions_and_head() == (dict.fromkeys(names, head), head)
    assert services.waits.wait_for(head, timeout=0.05) is True


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
        services.runner.reset(["journeys"])
        services.runner.catch_up()
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


def test_a_catch_up_that_nobody_can_finish_fails_instead_of_waiting_forever(
    services: Services, clock: Clock
) -> None:
    services.runner.stall_limit = 0.2
    write_history(services, clock, journeys=1)
    with services.database.transaction() as cursor:  # no runner can move this position
        cursor.execute("DELETE FROM projection_tracking WHERE name = 'journeys'")

    with pytest.raises(RuntimeError, match="below the head"):
        services.runner.catch_up()


def test_stale_planner_statistics_are_brought_up_to_date(
    services: Services, clock: Clock
) -> None:
    """With autovacuum off, a table filled since it was made has no statistics, and the
    planner scans the whole event table to load a batch of aggregates."""
    database = services.database
    if database.dialect != "postgres":
        pytest.skip("SQLite's planner uses the indexes without statistics")
    table = services.runner.log.table
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


def test_start_up_ddl_refused_by_a_busy_database_is_retried(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process starting beside another's batch can be refused its DDL (SQLite: "database
    is locked" at once, when its reading transaction cannot become the writer; PostgreSQL:
    a deadlock). It tries again instead of exiting."""
    create_tables = Tracking.create_tables
    refusals: list[str] = []

    def refused_twice(self: Tracking, **kwargs: Any) -> None:
        if len(refusals) < 2:
            refusals.append("database is locked")
            raise persistence.OperationalError("database is locked")
        create_tables(self, **kwargs)

    monkeypatch.setattr(Tracking, "create_tables", refused_twice)
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
    failure = getattr(persistence, error)
    calls: list[int] = []

    def broken(self: Tracking, **kwargs: Any) -> None:
        calls.append(1)
        raise failure("unable to open database file")

    monkeypatch.setattr(Tracking, "create_tables", broken)
    with pytest.raises(failure):
        build_system(database_url)
    assert calls == [1]
