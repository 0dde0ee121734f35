"""Rebuilding read models from the log: reset, replay, then the secondary indexes (one sort
each, instead of an index update per row written). With several workers, each replays a
share of the projections in a process of its own; on SQLite, one writer, each writes into
a database file of its own, copied in at the end (`decisions/0019`)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from projections.replay import replay
from projections.runner import ProjectionRunner
from storage.sqlite import SqliteDatabase

# In a worker process: replay these projections, in the database itself or (SQLite) into
# the database file given; returns how many notifications it applied. It must be
# picklable: a function of a module, or a partial of one.
Worker = Callable[[list[str], "str | None"], int]


def rebuild(runner: ProjectionRunner, names: Sequence[str],
            progress: Callable[[int], object] | None = None) -> int:
    """In this process; an interrupted rebuild's indexes are made by the next process
    that starts (`Tracking.create_tables`)."""
    runner.reset(names, indexes=False)
    applied = replay(runner.only(names), progress)
    runner.tracking.create_indexes(names)
    return applied


def rebuild_in_workers(runner: ProjectionRunner, groups: list[list[str]], worker: Worker,
                       sqlite_file: str | None) -> int:
    """Reset the read models of `groups`, replay the log into them in a worker process per
    group, then make their secondary indexes. The workers run no DDL here (their DDL
    beside another's batch could deadlock). On SQLite (`sqlite_file`), every worker writes
    into a file of its own, and the database itself is only read meanwhile: its reset runs
    beside the replay."""
    names = [name for group in groups for name in group]
    into: list[str | None] = [f"{sqlite_file}.rebuild-{n}" for n in range(len(groups))] \
        if sqlite_file else [None] * len(groups)
    if not sqlite_file:
        runner.reset(names, indexes=False)
    spawn = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=len(groups), mp_context=spawn) as pool:
            replays = [pool.submit(worker, group, scratch)
                       for group, scratch in zip(groups, into, strict=True)]
            if sqlite_file:
                runner.reset(names, indexes=False)
                runner.database.checkpoint()
            applied = max(replay.result() for replay in replays)
        for scratch, group in zip(into, groups, strict=True):
            if scratch and not adopt(runner, scratch, group):
                # A runner of another process has been replaying these meanwhile: it
                # finishes them, and nothing is copied.
                runner.only(group).catch_up()
    finally:
        for scratch in into:
            for suffix in ("", "-wal", "-shm", "-journal"):
                if scratch and os.path.exists(scratch + suffix):
                    os.remove(scratch + suffix)
    runner.tracking.create_indexes(names)
    return applied


def adopt(runner: ProjectionRunner, path: str, names: Sequence[str]) -> bool:
    """SQLite: copy the named read models and their tracking, made by another runner in
    the database file `path` (a rebuild worker's), into this database, in one transaction.
    Only while their tracking here is still 0, i.e. no runner here has applied a batch of
    them since their reset (then it is replaying them itself, and nothing is copied:
    False)."""
    database = runner.database
    assert isinstance(database, SqliteDatabase)
    with database.attached(path, "made") as cursor:
        marks = ", ".join("?" for _ in names)
        if cursor.execute(f"SELECT name FROM projection_tracking WHERE name IN ({marks}) "
                          "AND position <> 0", list(names)).fetchall():
            return False
        for name in names:
            for table in runner.projections[name].tables:
                columns = [[row["name"] for row in cursor.execute(
                    f"PRAGMA {schema}.table_info({table})").fetchall()]
                    for schema in ("main", "made")]
                if columns[0] == columns[1]:
                    # SQLite copies records whole into an empty table of the same
                    # definition (its transfer optimisation) only for `SELECT *`.
                    cursor.execute(f"INSERT INTO main.{table} SELECT * FROM made.{table}")
                else:
                    listed = ", ".join(columns[0])
                    cursor.execute(f"INSERT INTO main.{table} ({listed}) "
                                   f"SELECT {listed} FROM made.{table}")
            cursor.execute(
                "UPDATE main.projection_tracking SET position = (SELECT position FROM "
                "made.projection_tracking WHERE name = ?) WHERE name = ?", (name, name))
    return True


def units(runner: ProjectionRunner, names: list[str]) -> list[tuple[int, list[str]]]:
    """The projections a rebuild shares between workers, weighted: one by one, except on
    PostgreSQL, where those replayed by the same aggregate go together, so one worker
    reads and decodes those aggregates' events once for all of them
    (`replay_by_aggregate`)."""
    found: dict[str, tuple[int, list[str]]] = {}
    for name in names:
        projection = runner.projections[name]
        key = name
        if projection.replayed_from and runner.database.dialect == "postgres":
            key = "by " + projection.replayed_from
        weight, members = found.get(key, (0, []))
        found[key] = (weight + projection.weight, [*members, name])
    return list(found.values())


def share(shares: list[tuple[int, list[str]]], workers: int) -> list[list[str]]:
    """Heaviest first, each to the lightest group so far; empty groups are dropped."""
    groups: list[tuple[int, list[str]]] = [(0, []) for _ in range(workers)]
    for weight, members in sorted(shares, reverse=True):
        load, names = min(groups, key=lambda group: group[0])
        groups[groups.index((load, names))] = (load + weight, [*names, *members])
    return [names for _, names in groups if names]
