"""The ceilings every scenario is measured against, in the same run on the same database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from journeys.settings import store_for
from storage.database import Database

PAYLOAD = "x" * 300


class Ping(Aggregate):
    @event("Pinged")
    def __init__(self, payload: str) -> None:
        self.payload = payload


class Ceiling(Application[Any]):
    name = "benchceiling"


def library_ceiling(url: str) -> dict[str, float]:
    """Bare `eventsourcing`, as the library ships: measured in a process of its own, because
    a `journeys` process changes how psycopg sends lists (`decisions/0024`), and so would
    this one's once it has built the system."""
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.baselines", url],
                          stdout=subprocess.PIPE, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _library_ceiling(url: str, saves: int = 200, per_save: int = 100) -> dict[str, float]:
    """`per_save` new one-event aggregates per `save()` call."""
    store = store_for(url)
    env = dict(store.env)
    if store.dialect == "sqlite":
        env["SQLITE_DBNAME"] = str(Path(env["SQLITE_DBNAME"]).with_suffix(".ceiling.db"))
    env["ORIGINATOR_ID_TYPE"] = "uuid"
    app = Ceiling(env=env)
    try:
        started = time.perf_counter()
        for _ in range(saves):
            app.save(*(Ping(PAYLOAD) for _ in range(per_save)))
        elapsed = time.perf_counter() - started
    finally:
        app.close()
    return {"events": saves * per_save, "seconds": elapsed,
            "events_per_s": saves * per_save / elapsed}


def storage_ceiling(url: str, database: Database, transactions: int = 200,
                    per_transaction: int = 100) -> dict[str, float]:
    """Raw driver: `executemany` of `per_transaction` rows of ~300 bytes per transaction."""
    with database.transaction() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_rows")
        cursor.execute("CREATE TABLE bench_rows (id TEXT PRIMARY KEY, payload TEXT NOT NULL)")
    store = store_for(url)
    rows = [[(uuid4().hex, PAYLOAD) for _ in range(per_transaction)] for _ in range(transactions)]
    if store.dialect == "sqlite":
        connection = sqlite3.connect(store.env["SQLITE_DBNAME"], isolation_level=None)
        started = time.perf_counter()
        for chunk in rows:
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO bench_rows VALUES (?, ?)", chunk)
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
    else:
        import psycopg

        env = store.env
        with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                             port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                             password=env["POSTGRES_PASSWORD"]) as connection:
            started = time.perf_counter()
            for chunk in rows:
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.executemany("INSERT INTO bench_rows VALUES (%s, %s)", chunk)
            elapsed = time.perf_counter() - started
    total = transactions * per_transaction
    return {"rows": total, "seconds": elapsed, "rows_per_s": total / elapsed}


def prepare_http_ceiling(database: Database, keys: int = 1000) -> None:
    with database.transaction() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_kv")
        cursor.execute("CREATE TABLE bench_kv (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        cursor.executemany("INSERT INTO bench_kv VALUES (?, ?)",
                           [(f"k{n}", PAYLOAD) for n in range(keys)])


if __name__ == "__main__":  # the library ceiling in a process of its own
    print(json.dumps(_library_ceiling(sys.argv[1])))
