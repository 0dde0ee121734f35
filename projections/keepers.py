"""Who keeps the read models: each loop following the log notes, every few seconds, that
it is alive, so a process that waits for the read models (an API process) can say when
nobody keeps them, rather than only that they are late."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from storage.database import Database
from storage.values import iso

DDL = ("CREATE TABLE IF NOT EXISTS projection_keepers ("
       "keeper TEXT PRIMARY KEY, seen_at TEXT NOT NULL)")
BEAT = 5.0  # seconds between a keeper's notes
ALIVE = timedelta(seconds=15)  # a keeper not seen for longer is gone


class Keepers:
    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock
        self.me = f"{socket.gethostname()}:{os.getpid()}"

    def beat(self) -> None:
        """Note that this process keeps the read models, now; and forget the long gone."""
        now = self.clock()
        with self.database.transaction() as cursor:
            cursor.execute("INSERT INTO projection_keepers (keeper, seen_at) VALUES (?, ?) "
                           "ON CONFLICT (keeper) DO UPDATE SET seen_at = excluded.seen_at",
                           (self.me, iso(now)))
            cursor.execute("DELETE FROM projection_keepers WHERE seen_at < ?",
                           (iso(now - 100 * ALIVE),))

    def alive(self) -> list[str]:
        rows = self.database.query("SELECT keeper FROM projection_keepers WHERE seen_at >= ? "
                                   "ORDER BY keeper", (iso(self.clock() - ALIVE),))
        return [row["keeper"] for row in rows]

    def describe(self) -> str:
        """One line for an operator: who keeps the read models, or that nobody does."""
        try:
            alive = self.alive()
        except Exception as error:  # noqa: BLE001 - a line for a log, never a failure
            return f"whether any process keeps the read models is unknown ({error})"
        if not alive:
            return ("no process keeps the read models: start `journeys projections run` "
                    "(or `journeys scheduler`, or use `journeys serve`)")
        return f"the read models are kept by {', '.join(alive)}"
