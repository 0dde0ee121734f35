"""`tick` with the read models kept by another runner: it does not wait for them between
rounds, yet finishes every piece of work due at the instant, and only once."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.triggers import IncomingEvent
from journeys.wiring import System, build_system
from tests.conftest import Clock

T0 = datetime(2025, 12, 14, 9, 0, tzinfo=UTC)


def _journey(system: System, customers: int) -> str:
    app = system.services.app
    jid = app.create_journey(tenant_id="t", name="j", trigger_type="go").journey.id
    app.add_step(jid, "SEND", "hi", {"channel": "EMAIL", "templateId": "hi"})
    app.add_step(jid, "WAIT", "an hour", {"duration": "1 hour"})
    app.add_step(jid, "END", "done")
    app.activate(jid)
    system.services.triggers.ingest(
        [IncomingEvent("t", "go", f"c{n}", None, None, {}, None) for n in range(customers)])
    return jid


def _counters(system: System, jid: str) -> dict[str, object] | None:
    return system.services.database.query_one(
        "SELECT total_enrolled, total_completed, active_enrollments FROM journey_stats WHERE journey_id = ?",
        (jid,))


def test_tick_beside_another_runner_does_all_the_work_once(
    system: System, clock: Clock, database_url: str
) -> None:
    clock.now = T0
    jid = _journey(system, 30)
    system.scheduler.batch_size = system.scheduler.matcher.batch_size = 7
    follower = build_system(database_url, clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=follower.follower.run_forever, args=(stop, 0.01))
    thread.start()
    try:
        first = system.scheduler.tick(T0, external_projections=True)
        second = system.scheduler.tick(T0 + timedelta(hours=2), external_projections=True)
    finally:
        stop.set()
        thread.join()
        follower.services.app.close()

    assert (first.enrolled, first.processed, first.messages) == (30, 30, 30)
    assert (second.processed, second.ended) == (30, 30), "each wait fired once"
    assert _counters(system, jid) == {"total_enrolled": 30, "total_completed": 30,
                                      "active_enrollments": 0}
    assert system.services.database.query("SELECT * FROM due_work") == []


def test_tick_expecting_another_runner_that_is_not_there_still_finishes(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    jid = _journey(system, 5)

    system.scheduler.tick(T0, external_projections=True, settle_timeout=0.05)
    second = system.scheduler.tick(T0 + timedelta(hours=2), external_projections=True,
                                   settle_timeout=0.05)

    assert second.ended == 5
    assert _counters(system, jid) == {"total_enrolled": 5, "total_completed": 5,
                                      "active_enrollments": 0}


def test_an_idle_scheduler_sleeps_until_the_next_wait_ends_not_a_whole_interval(
    system: System, clock: Clock
) -> None:
    clock.now = T0
    jid = _journey(system, 3)
    system.scheduler.tick(T0)  # sends; every wait now ends at T0 + 1 hour
    scheduler = system.scheduler

    assert scheduler.idle_wait(T0 + timedelta(minutes=59, seconds=59.75), 1.0) == \
        pytest.approx(0.251)
    assert scheduler.idle_wait(T0, 1.0) == 1.0, "nothing due within the interval"
    system.services.app.pause(jid)
    system.runner.catch_up()
    assert scheduler.idle_wait(T0 + timedelta(minutes=59, seconds=59.75), 1.0) == 1.0, \
        "a paused journey's waits do not wake the scheduler"
    system.services.app.resume(jid)
    system.runner.catch_up()
    assert scheduler.idle_wait(T0 + timedelta(hours=2), 1.0) == 1.0, "overdue work is claimed " \
        "by the round, not slept for"


def test_released_claims_skip_a_row_another_transaction_is_rewriting(
    system: System, clock: Clock, database_url: str
) -> None:
    """Giving claims back never waits on a projection batch holding the same rows (the
    two lock them in different orders and could deadlock); that batch clears the claim."""
    from projections.due_work import claim_due, release_claims

    clock.now = T0
    _journey(system, 3)
    system.scheduler.tick(T0)
    database = system.services.database
    due = T0 + timedelta(hours=2)
    claimed = claim_due(database, due, due + timedelta(seconds=30), due, 10)
    assert len(claimed) == 3
    held = sorted(claimed)[0]

    def still_claimed() -> set[str]:
        return {r["enrollment_id"] for r in database.query(
            "SELECT enrollment_id FROM due_work WHERE claimed_until IS NOT NULL")}

    if database.dialect == "postgres":
        import psycopg

        with psycopg.connect(database_url) as other:  # a batch rewriting one of the rows
            other.execute("SELECT 1 FROM due_work WHERE enrollment_id = %s FOR UPDATE", (held,))
            done = threading.Event()
            threading.Thread(target=lambda: (release_claims(database, claimed), done.set()),
                             daemon=True).start()
            assert done.wait(5), "release waited for the other transaction"
            assert still_claimed() == {held}
            other.rollback()
    else:
        release_claims(database, claimed)
        assert still_claimed() == set()


def test_a_claim_locks_its_rows_once_when_statistics_think_due_work_is_empty(
    system: System, clock: Clock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statistics taken when due_work had pages but no live rows (every enrollment done)
    say it is empty however much it grows until the next ANALYZE. The claim's locking
    SELECT must still run once: written as `IN (subquery)`, PostgreSQL re-ran it for
    every row of the table (2,000 rows: 2 s instead of 2 ms, and quadratic)."""
    if system.services.database.dialect != "postgres":
        pytest.skip("PostgreSQL's planner; SQLite claims under its single writer")
    import psycopg

    from projections.due_work import claim_due
    from storage.database import Cursor

    clock.now = T0
    jid = _journey(system, 0)
    system.runner.catch_up()
    with psycopg.connect(database_url, autocommit=True) as connection:
        def add(first: int, count: int) -> None:
            connection.cursor().executemany(
                "INSERT INTO due_work (enrollment_id, journey_id, due_at, kind) "
                "VALUES (%s, %s, '2025-12-14T09:00:00.000Z', 'wait')",
                [(f"e{n}", jid) for n in range(first, first + count)])
        add(100_000, 1000)
        connection.execute("DELETE FROM due_work")
        connection.execute("ANALYZE due_work")
        connection.execute("ANALYZE journeys")
        add(0, 2000)

    claims: list[tuple[str, tuple[object, ...]]] = []
    execute = Cursor.execute

    def recording(self: Cursor, statement: str, params: Sequence[object] = ()) -> Cursor:
        if "claimed_until = ?" in statement and "SKIP LOCKED" in statement:
            claims.append((self._sql(statement), tuple(params)))
        return execute(self, statement, params)

    monkeypatch.setattr(Cursor, "execute", recording)
    due = T0 + timedelta(hours=1)
    claimed = claim_due(system.services.database, due, due + timedelta(seconds=30), due, 200)
    assert len(claimed) == 200
    assert len(claims) == 2  # the archived journeys' work, then the due work

    with psycopg.connect(database_url) as connection:
        connection.execute("UPDATE due_work SET claimed_until = NULL")
        for statement, params in claims:
            plan = connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement,
                                      params).fetchone()[0][0]["Plan"]  # type: ignore[index]
            locks = [node["Actual Loops"] for node in _nodes(plan)
                     if node["Node Type"] == "LockRows"]
            assert locks and max(locks) == 1, (statement, locks)
        connection.rollback()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_the_live_loop_holds_projections_only_through_whole_batches(
    system: System, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run_forever` tells its process's projection loop to give way while its rounds take
    whole batches (a backlog, such as timers falling due together); a round that takes
    less is a trickle, which the projections keep up with as it comes."""
    clock.now = T0
    jid = _journey(system, 5)
    system.scheduler.tick(T0)  # every customer enrolled, sent to, and waiting an hour
    scheduler = system.scheduler
    scheduler.batch_size = scheduler.matcher.batch_size = 2
    calls: list[bool] = []
    stop = threading.Event()

    def give_way(backlog: bool) -> None:
        calls.append(backlog)
        if len(calls) == 4:
            stop.set()

    monkeypatch.setattr(system.follower, "give_way", give_way)
    loop = threading.Thread(target=scheduler.run_forever,
                            args=(stop, lambda: T0 + timedelta(hours=2), 0.01))
    loop.start()
    loop.join(timeout=30)

    assert not loop.is_alive()
    assert calls[:4] == [True, True, False, False]  # 2 waits, 2, the last 1, none left
    assert calls[-1] is False, "the hold is lifted when the loop stops"
    system.runner.catch_up()
    assert _counters(system, jid)["total_completed"] == 5  # type: ignore[index]
