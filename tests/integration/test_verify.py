"""Verifying read models: a rebuild beside the live tables, compared row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journeys.wiring import System
from projections.verify import Difference, verify
from storage.sqlite import scratch_database
from tests.conftest import Clock
from tests.integration.history import dump
from tests.integration.test_rebuild import ENROLLMENT_TABLES, engine_history


def no_bars(what: str, total: int, done: int) -> Any:
    return lambda moved: None


def verified(system: System, name: str, folder: Path) -> list[Difference]:
    runner = system.runner
    return verify(runner.log, runner.database,
                  scratch_database(str(folder / f"scratch-{name}.db")),
                  runner.projections[name], no_bars)


def test_read_models_made_as_the_log_says_verify_clean_and_stay_untouched(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    engine_history(system, clock)
    system.runner.catch_up()
    before = dump(system.services.database, ENROLLMENT_TABLES)

    for name in system.runner.projections:
        assert verified(system, name, tmp_path) == [], name
    assert dump(system.services.database, ENROLLMENT_TABLES) == before


def test_each_row_that_differs_from_the_log_is_named(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    engine_history(system, clock)
    system.runner.catch_up()
    database = system.services.database
    changed = database.query("SELECT id, status FROM enrollments ORDER BY id LIMIT 1")[0]
    lost = database.query("SELECT id FROM messages ORDER BY id LIMIT 1")[0]["id"]
    with database.transaction() as cursor:
        cursor.execute("UPDATE enrollments SET status = 'FAILED' WHERE id = ?", (changed["id"],))
        cursor.execute("DELETE FROM messages WHERE id = ?", (lost,))
        cursor.execute("INSERT INTO step_variant_stats VALUES ('j', 's', 7, 1)")
        cursor.execute("UPDATE due_work SET claimed_until = '2030-01-01T00:00:00.000Z'")

    found = verified(system, "enrollments", tmp_path)

    assert sorted(map(str, found)) == sorted([
        f"enrollments (id={changed['id']}) status: live 'FAILED', rebuilt {changed['status']!r}",
        f"messages (id={lost}): only rebuilt",
        "step_variant_stats (journey_id=j, step_id=s, variant=7): only in the live table",
    ])
    assert verified(system, "due_work", tmp_path) == [], "a lease is not a fact of the log"


def test_a_live_model_ahead_of_the_rebuild_is_compared_at_its_own_position(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    """The live tables move on while the rebuild runs: it is brought to where they are."""
    engine_history(system, clock)
    system.runner.catch_up()
    runner = system.runner
    log_ = runner.log
    moved = {"done": False}

    class Moving:
        """The live read model moves on right after the rebuild read its position."""

        def __getattr__(self, name: str) -> Any:
            return getattr(log_, name)

        def head(self) -> int:
            if not moved["done"]:
                moved["done"] = True
                system.services.exits.exit_customer(
                    runner.database.query("SELECT journey_id FROM enrollments LIMIT 1")[0][
                        "journey_id"], "c40", "t")
                runner.catch_up()
            return log_.head()

    found = verify(Moving(), runner.database,  # type: ignore[arg-type]
                   scratch_database(str(tmp_path / "scratch.db")), runner.projections["enrollments"],
                   no_bars)
    assert moved["done"] and found == []
