"""Replaying the log from the start into read models reset to position 0: in larger
batches than a loop following the log takes (`decisions/0018`), and on PostgreSQL
aggregate by aggregate first (`decisions/0027`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from projections.runner import ProjectionRunner, announce_commit
from projections.tracking import move_tracking
from storage.event_log import Item

# A replay's batches: on SQLite (one writer) fewer, larger transactions are faster; on
# PostgreSQL, with two workers, larger batches measured slower (decisions/0018).
REPLAY_BATCH = {"sqlite": 5000, "postgres": 1000}
REPLAY_AGGREGATES = 1000  # aggregates per read of a replay by aggregate


@contextmanager
def replaying(runner: ProjectionRunner) -> Iterator[None]:
    """The runner takes batches of at least REPLAY_BATCH meanwhile."""
    batch_size = runner.batch_size
    runner.batch_size = max(batch_size, REPLAY_BATCH[runner.database.dialect])
    try:
        yield
    finally:
        runner.batch_size = batch_size


def replay(runner: ProjectionRunner, progress: Callable[[int], object] | None = None) -> int:
    """Apply the whole log to the runner's projections; returns how many notifications
    this runner applied."""
    with replaying(runner):
        runner.statistics.keep()  # the replay by aggregate looks its events up by key
        total = replay_by_aggregate(runner)
        if total and progress:
            progress(total)
        return total + runner.catch_up(progress)


def replay_by_aggregate(runner: ProjectionRunner) -> int:
    """PostgreSQL, a runner whose projections are all at position 0 and all allow it
    (`Projection.replayed_from`, the same topic): apply the log up to its head aggregate
    by aggregate, each aggregate's events together, in one transaction that moves their
    tracking from 0 to that head first; returns the head (0 if nothing was done). Each
    aggregate's rows are then written once, by COPY, instead of written, read back and
    updated batch after batch as its events come in log order, and an aggregate that
    ended leaves no due work to write and delete. SQLite replays in log order: its rebuild
    workers write into files of their own (`decisions/0019`). The catch-up that follows
    applies what came after."""
    projections = list(runner.projections.values())
    starts_with = {projection.replayed_from for projection in projections}
    if runner.database.dialect != "postgres" or len(starts_with) != 1 or None in starts_with:
        return 0
    first_topic = projections[0].replayed_from
    assert first_topic is not None
    names = [projection.name for projection in projections]
    positions, head = runner.tracking.positions_and_head()
    if any(positions[name] != 0 for name in names) or head == 0:
        return 0
    topics = sorted(set().union(*(projection.topics for projection in projections)))
    with runner.database.transaction() as cursor:
        if not move_tracking(cursor, names, 0, head):
            return 0  # another runner is applying them
        announce_commit(cursor, names, head)
        for items, topics_of in _aggregate_chunks(runner, head, first_topic, topics):
            for projection in projections:
                projection.apply_batch(cursor, [item for item, topic in zip(items, topics_of, strict=True)
                                                if topic in projection.topics])
    runner.progress.committed(names, head)
    return head


def _aggregate_chunks(
    runner: ProjectionRunner, head: int, first_topic: str, topics: list[str]
) -> Iterator[tuple[list[Item], list[str]]]:
    """The events of `topics` up to `head` of a thousand aggregates at a time
    (`EventLog.aggregates_started`). Each chunk is read by a thread while the one before
    it is applied: the reads wait on the server for their index look-ups, the writes on it
    for their COPY."""
    def read(after: int) -> tuple[int, list[Item], list[str]]:
        return runner.log.aggregates_started(after, head, first_topic, topics, REPLAY_AGGREGATES)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-read") as reader:
        ahead = reader.submit(read, 0)
        while True:
            after, items, topics_of = ahead.result()
            if not after:
                return
            ahead = reader.submit(read, after)
            yield items, topics_of
