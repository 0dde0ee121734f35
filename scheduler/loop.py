"""The scheduler: trigger matching, due steps and sends, in batches, driven by a clock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventsourcing.persistence import PersistenceError
from prometheus_client import Counter

from domain.advancing import Advancing, Processed
from domain.triggers import Triggers
from projections.due_work import claim_due, next_due, release_claims
from projections.following import Follower
from projections.runner import ProjectionRunner
from projections.waits import ConsistencyWait
from scheduler.matcher import TriggerMatcher
from storage import receipts
from storage.database import Database
from storage.values import iso

log = logging.getLogger("journeys.scheduler")
RECEIPTS_KEPT = timedelta(hours=48)  # the contract promises 24 at least
TIDY_EVERY = 600.0  # seconds between clearings
SET_ASIDE = Counter("journeys_set_aside", "Items the scheduler could not handle and set aside "
                    "(an enrollment FAILED with the reason, a trigger event that enrolled no one)",
                    ["kind"])


@dataclass
class Totals:
    matched: int = 0  # trigger events read
    enrolled: int = 0
    processed: int = 0  # enrollments advanced
    ended: int = 0
    messages: int = 0
    set_aside: int = 0

    def add(self, result: Processed) -> None:
        self.enrolled += result.enrolled
        self.processed += result.enrollments
        self.ended += result.ended
        self.messages += len(result.messages)
        self.set_aside += len(result.set_aside)
        for aggregate_id, reason in result.set_aside:
            log.warning("%s %s", aggregate_id, reason)
            SET_ASIDE.labels("trigger event" if aggregate_id.startswith("event_")
                             else "enrollment").inc()


class Scheduler:
    def __init__(
        self,
        triggers: Triggers,
        advancing: Advancing,
        runner: ProjectionRunner,
        follower: Follower,
        waits: ConsistencyWait,
        *,
        lease_clock: Callable[[], datetime],
        batch_size: int = 200,
        lease: timedelta = timedelta(seconds=30),
    ) -> None:
        """`runner` brings the read models up inline (`tick`); `follower` is the loop that
        follows the log beside this scheduler in its process, if there is one; `waits`
        tells when another process has brought them up."""
        self.advancing = advancing
        self.database: Database = runner.database
        self.runner = runner
        self.follower = follower
        self.waits = waits
        self.matcher = TriggerMatcher(triggers, runner.log,
                                      lambda: runner.positions()["journeys"],
                                      batch_size=batch_size)
        self.batch_size = batch_size
        self.lease = lease
        self.lease_clock = lease_clock
        # Whether the last round took a whole batch of triggers or of due work: a backlog.
        self.last_round_full = False

    def run_once(self, now: datetime, totals: Totals, project: Callable[[], object]) -> bool:
        """One round: match triggers, bring read models up, run a batch of due work.

        True when the round changed something (so another round may find more to do).
        """
        project()  # the matcher needs the journeys read model up to the triggers it reads
        matched, passes = self.matcher.run_once(now)
        totals.matched += matched
        totals.add(passes)
        project()
        wall = self.lease_clock()
        claimed = claim_due(self.database, now, wall + self.lease, wall, self.batch_size)
        changed = 0
        if claimed:
            result = self.advancing.process(claimed, now)
            totals.add(result)
            changed = len(result.changed)
            unchanged = [i for i in claimed if i not in result.changed]
            if unchanged:
                # Work that was not due after all (a stale row): give the claims back.
                release_claims(self.database, unchanged)
        self.last_round_full = (matched >= self.matcher.batch_size
                                or len(claimed) >= self.batch_size)
        return bool(matched or changed)

    def tick(self, now: datetime, *, external_projections: bool = False,
             settle_timeout: float = 10.0) -> Totals:
        """Do every piece of work due at `now`, let the read models catch up, and return.

        By default the read models are brought up to date between rounds, in this process.
        With `external_projections`, another process keeps them (`journeys projections
        run`, a scheduler, `serve`) and the rounds do not wait for it: claims are leased, so
        work it has not projected yet is not claimed twice meanwhile. When the rounds run
        out of work, the tick waits for the read models to reach the head of the log (or,
        after `settle_timeout` seconds, catches them up itself) and looks again, so it
        never stops while work due at `now` is still to be seen.
        """
        totals = Totals()
        if not external_projections:
            while self.run_once(now, totals, self.runner.catch_up):
                pass
        else:
            while True:
                while self.run_once(now, totals, lambda: None):
                    pass
                if not self.waits.wait_for(self.runner.head(), settle_timeout):
                    self.runner.catch_up()
                if not self.run_once(now, totals, lambda: None):
                    break
        self.runner.catch_up()
        return totals

    def run_forever(
        self, stop: threading.Event, clock: Callable[[], datetime], interval: float = 1.0
    ) -> None:
        """Poll for work every `interval` seconds, or sooner when known work falls due
        sooner; keep going while there is work."""
        totals = Totals()

        def project() -> None:
            # The projection thread follows on its own; claims are leased, so a round need
            # not wait for it (tick, with no such thread, catches up inline instead).
            self.follower.nudge()

        tidied = -TIDY_EVERY
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once(clock(), totals, project)
                    if time.monotonic() - tidied >= TIDY_EVERY:
                        self.tidy(self.lease_clock())
                        tidied = time.monotonic()
                except PersistenceError as error:  # the database away: the round again later
                    log.warning("scheduler round failed, the database is away: %s", error)
                    busy = False
                    stop.wait(interval)
                except Exception:  # a failed round is logged and retried
                    log.exception("scheduler round failed; retrying")
                    busy = False
                    stop.wait(interval)
                backlog = busy and self.last_round_full
                # A projection loop in this process holds its batches through a backlog.
                self.follower.give_way(backlog)
                if not busy:
                    stop.wait(self.idle_wait(clock(), interval))
        finally:
            self.follower.give_way(False)

    def tidy(self, wall_now: datetime) -> None:
        """Forget the idempotency receipts older than RECEIPTS_KEPT."""
        forgotten = receipts.forget_before(self.database, iso(wall_now - RECEIPTS_KEPT))
        if forgotten:
            log.info("forgot %s idempotency receipts older than %s", forgotten, RECEIPTS_KEPT)

    def idle_wait(self, now: datetime, interval: float) -> float:
        """Seconds an idle loop may sleep: the poll interval, or until the next work falls
        due if that is sooner, so a timer fires on time rather than up to an interval late.
        Work not yet projected is found by the next poll."""
        try:
            due = next_due(self.database, now)
        except PersistenceError:  # the poll is the fallback; a failed lookup costs precision
            log.exception("could not look up the next due work")
            return interval
        if due is None:
            return interval
        return min(interval, max(0.0, (due - now).total_seconds()) + 0.001)
