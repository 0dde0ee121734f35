"""The long-running loop that keeps the read models current: `journeys projections run`,
and a thread of `serve` and of `scheduler --projections inline`."""

from __future__ import annotations

import logging
import threading
import time

from eventsourcing.persistence import PersistenceError

from projections.keepers import BEAT, Keepers
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

# How long a loop holds its batches while the scheduler of its process is in a burst
# (`give_way`); after that they share the process again (decisions/0021).
BURST_HOLD = 5.0
MAX_BACKOFF = 5.0  # seconds between retries of a batch that keeps failing (a database away)


class Follower:
    def __init__(self, runner: ProjectionRunner, keepers: Keepers,
                 channel: str | None = None) -> None:
        """`channel`: where the event store announces its appends, if it does."""
        self.runner = runner
        self.keepers = keepers
        self.progress = runner.progress
        self.channel = channel
        self.burst_hold = BURST_HOLD
        self._burst_since: float | None = None

    def nudge(self) -> None:
        """Ask the loop to poll now rather than at its next interval."""
        self.progress.wake.set()

    def give_way(self, backlog: bool) -> None:
        """The scheduler of this process says whether its rounds take whole batches.

        While they do (a backlog), the loop holds its batches, for at most `burst_hold`
        seconds from the burst's start, or until a consistency wait of this process waits
        for it: the scheduler and the loop share one interpreter lock, so a burst of due
        timers fires faster alone, and the loop then applies what it fired in fewer,
        larger batches (decisions/0021)."""
        with self.progress.changed:
            if backlog and self._burst_since is None:
                self._burst_since = time.monotonic()
            elif not backlog and self._burst_since is not None:
                self._burst_since = None
                self.progress.changed.notify_all()

    def _hold_for_burst(self, stop: threading.Event) -> None:
        progress = self.progress
        with progress.changed:
            while self._burst_since is not None and not progress.waiting and not stop.is_set():
                left = self._burst_since + self.burst_hold - time.monotonic()
                if left <= 0:
                    return
                progress.changed.wait(min(left, 0.5))  # 0.5: `stop` is seen soon enough

    def run_forever(self, stop: threading.Event, interval: float = 0.2) -> None:
        """Follow the log until `stop`: woken by each append where the store announces it,
        by `nudge()` in this process, or else every `interval` seconds."""
        if self.channel and self.runner.database.notifies:
            threading.Thread(target=self.runner.database.listen,
                             args=(self.channel, lambda _payload: self.nudge(), stop.is_set),
                             name="projections-listen", daemon=True).start()
        with self.progress.follower():
            self._follow(stop, interval)

    def _follow(self, stop: threading.Event, interval: float) -> None:
        wake = self.progress.wake
        backoff = interval
        beaten = -BEAT
        while not stop.is_set():
            self._hold_for_burst(stop)
            try:
                if time.monotonic() - beaten >= BEAT:
                    self.keepers.beat()
                    beaten = time.monotonic()
                self.runner.statistics.keep()
                applied = self.runner.run_once()
                backoff = interval
            except PersistenceError as error:  # the database away: tried again, as it was
                log.warning("projection batch failed, the database is away (%s); retrying in "
                            "%.1fs", str(error).splitlines()[0], backoff)
                applied = 0
                backoff = min(backoff * 2, MAX_BACKOFF)
            except Exception:  # logged with its traceback; the batch is retried, never skipped
                log.exception("projection batch failed; retrying in %.1fs", backoff)
                applied = 0
                backoff = min(backoff * 2, MAX_BACKOFF)
            if not applied:
                wake.wait(backoff)
                wake.clear()
