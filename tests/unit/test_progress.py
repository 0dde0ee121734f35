"""What this process knows its own projection loop applied: never more than is true."""

from __future__ import annotations

import threading

from projections.progress import LocalProgress


def test_a_commit_answers_for_its_projections_only() -> None:
    progress = LocalProgress()
    progress.committed(["journeys", "customers"], 10)

    assert progress.reached(["journeys", "customers"], 10)
    assert not progress.reached(["journeys", "enrollments"], 10)
    assert not progress.reached(["journeys"], 11)


def test_a_reset_makes_what_was_applied_untrue() -> None:
    progress = LocalProgress()
    progress.committed(["journeys", "customers"], 10)

    progress.forget(["journeys"])

    assert not progress.reached(["journeys"], 10)
    assert progress.reached(["customers"], 10)


def test_positions_read_from_the_table_undo_what_a_reset_elsewhere_undid() -> None:
    progress = LocalProgress()
    progress.committed(["journeys", "customers"], 10)

    progress.read({"journeys": 0, "customers": 12})

    assert not progress.reached(["journeys"], 10)
    assert progress.reached(["customers"], 12)


def test_a_waiter_is_woken_by_a_commit() -> None:
    progress = LocalProgress()
    seen = progress.generation
    threading.Timer(0.05, progress.committed, (["journeys"], 3)).start()

    assert progress.wait_applied(seen, timeout=5)
    assert not progress.wait_applied(progress.generation, timeout=0.01)
