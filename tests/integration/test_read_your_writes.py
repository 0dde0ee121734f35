"""A command's answer waits until the read models show it: answered by another process's
batches, by this process's own loop, and never by what a reset made untrue. The loop
beside a busy scheduler gives way to it, but never to a waiting command."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from api.context import Services
from journeys.wiring import System, build_system
from projections.following import Follower
from tests.conftest import Clock
from tests.integration.history import write_history


@pytest.fixture
def writer(services: Services, clock: Clock, database_url: str) -> Iterator[Services]:
    """A second process's services on the same database."""
    other = build_system(database_url, clock=clock).services
    yield other
    other.app.close()


def test_a_wait_is_answered_when_another_process_applies_the_batch(
    services: Services, clock: Clock, writer: Services
) -> None:
    write_history(writer, clock, journeys=1)
    head = writer.runner.head()
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(services.waits.wait_for(head, 10)))
    waiter.start()
    writer.runner.catch_up()
    waiter.join(timeout=10)

    assert result == [True]


def test_after_a_reset_no_wait_is_answered_by_what_was_applied_before(
    services: Services, clock: Clock, writer: Services
) -> None:
    """On PostgreSQL the waits hear the reset's announcement; on SQLite they read."""
    write_history(services, clock, journeys=1)
    head = services.runner.head()
    services.runner.catch_up()
    assert services.waits.wait_for(head, timeout=5)

    writer.runner.reset(["journeys"])  # another process's rebuild

    deadline = time.monotonic() + 5  # an announcement arrives after its commit
    while services.waits.wait_for(head, timeout=0.05) and time.monotonic() < deadline:
        pass
    assert [services.waits.wait_for(head, timeout=0.1) for _ in range(3)] == [False] * 3


def test_a_wait_in_a_process_that_follows_the_log_is_answered_by_its_loop(
    system: System, clock: Clock
) -> None:
    """`journeys serve`: the loop of this process applies what the command wrote."""
    stop = threading.Event()
    loop = threading.Thread(target=system.follower.run_forever, args=(stop, 5.0), daemon=True)
    loop.start()
    try:
        write_history(system.services, clock, journeys=1)
        head = system.runner.head()

        assert system.services.waits.wait_for(head, timeout=10)
        assert min(system.runner.positions().values()) >= head
    finally:
        stop.set()
        system.follower.nudge()
        loop.join(timeout=10)


@pytest.fixture
def following(system: System) -> Iterator[Follower]:
    """The loop following the log in a thread, as beside `journeys scheduler`."""
    follower = system.follower
    stop = threading.Event()
    loop = threading.Thread(target=follower.run_forever, args=(stop, 0.05), daemon=True)
    loop.start()
    assert system.services.waits.wait_for(system.runner.head(), timeout=10)  # caught up
    yield follower
    follower.give_way(False)
    stop.set()
    follower.nudge()
    loop.join(timeout=10)


def caught_up_within(system: System, head: int, seconds: float) -> bool:
    """Whether the positions reach `head` within `seconds`, read without waiting (a
    consistency wait would release a held loop)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if min(system.runner.positions().values()) >= head:
            return True
        time.sleep(0.02)
    return False


def written_in_a_burst(follower: Follower, system: System, clock: Clock, hold: float) -> int:
    """Start a burst that holds the loop for `hold` seconds, write some history meanwhile
    and nudge the loop; the log's head after it."""
    follower.burst_hold = hold
    follower.give_way(True)
    write_history(system.services, clock, journeys=1)
    follower.nudge()
    return system.runner.head()


def test_the_loop_holds_its_batches_while_the_scheduler_of_its_process_is_in_a_burst(
    system: System, clock: Clock, following: Follower
) -> None:
    head = written_in_a_burst(following, system, clock, hold=60.0)

    assert not caught_up_within(system, head, 0.5), "held while the burst lasts"

    following.give_way(False)
    assert caught_up_within(system, head, 10), "applied when the burst ends"


def test_a_consistency_wait_is_not_held_by_a_burst(
    system: System, clock: Clock, following: Follower
) -> None:
    head = written_in_a_burst(following, system, clock, hold=60.0)

    assert system.services.waits.wait_for(head, timeout=10), "the waiting command let it go on"


def test_a_burst_holds_the_loop_for_burst_hold_seconds_at_most(
    system: System, clock: Clock, following: Follower
) -> None:
    head = written_in_a_burst(following, system, clock, hold=0.3)  # and it never ends

    assert caught_up_within(system, head, 10)
