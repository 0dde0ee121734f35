"""Configuration from the environment and the command line, turned into store settings."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///./journeys.db"


class SettingsError(ValueError):
    """A configuration value that cannot be used."""


@dataclass(frozen=True)
class Store:
    """Where events and read models live: the eventsourcing environment and the SQL dialect."""

    dialect: str
    env: dict[str, str]
    display: str


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("JOURNEYS_DATABASE_URL") or DEFAULT_DATABASE_URL


def store_for(url: str) -> Store:
    """Parse `sqlite:///PATH` or `postgresql://USER:PASSWORD@HOST:PORT/DB`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise SettingsError(f"no file in {url!r}; use sqlite:///PATH")
        return Store(
            dialect="sqlite",
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": os.environ.get("SQLITE_LOCK_TIMEOUT", "30"),
            },
            display=f"sqlite:///{path}",
        )
    if parts.scheme in ("postgresql", "postgres"):
        dbname = parts.path.lstrip("/")
        if not dbname or not parts.hostname:
            raise SettingsError(f"need host and database in {url!r}")
        return Store(
            dialect="postgres",
            env={
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": unquote(dbname),
                "POSTGRES_HOST": parts.hostname,
                "POSTGRES_PORT": str(parts.port or 5432),
                "POSTGRES_USER": unquote(parts.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_POOL_SIZE": os.environ.get("POSTGRES_POOL_SIZE", "4"),
                "POSTGRES_MAX_OVERFLOW": os.environ.get("POSTGRES_MAX_OVERFLOW", "8"),
                "POSTGRES_CONNECT_TIMEOUT": os.environ.get("POSTGRES_CONNECT_TIMEOUT", "2"),
            },
            display=(f"postgresql://{parts.username + '@' if parts.username else ''}"
                     f"{parts.hostname}:{parts.port or 5432}/{dbname}"),
        )
    raise SettingsError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def check_reachable(store: Store, *, create: bool) -> None:
    """SettingsError naming the database (without its password) and why it cannot be
    used, before anything is made in it."""
    from storage.database import Unreachable

    try:
        if store.dialect == "postgres":
            from storage.postgres import check_connection

            env = store.env
            check_connection(env["POSTGRES_HOST"], int(env["POSTGRES_PORT"]),
                             env["POSTGRES_USER"], env["POSTGRES_PASSWORD"],
                             env["POSTGRES_DBNAME"], float(env["POSTGRES_CONNECT_TIMEOUT"]))
        else:
            from storage.sqlite import check_file

            check_file(store.env["SQLITE_DBNAME"], create=create)
    except Unreachable as why:
        raise SettingsError(f"cannot use {store.display}: {why}") from None


def batch_size(text: str) -> int:
    """Enrollments the scheduler matches or advances per save, 1 to 10,000."""
    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 1 <= size <= 10_000:
        raise SettingsError(f"the batch size must be a whole number from 1 to 10000, not {text!r}")
    return size


# The cyclic garbage collector's thresholds for every `journeys` process (decisions/0018):
# the youngest generation is collected every 50,000 allocations instead of Python's 700.
COLLECTOR_THRESHOLDS = (50_000, 20, 100)


def tune_collector() -> None:
    """Collect garbage less often, and leave what was made at start-up (modules, the
    application) out of the collections: a batch of the engine or of a projection makes
    hundreds of thousands of short-lived objects, and the collector walked them every
    700 allocations."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    gc.freeze()
