"""Builds the application, the read models and the runner for one database."""

from __future__ import annotations

from typing import Any, cast

from api.context import Services
from domain.application import Clock, JourneysApplication, system_clock
from domain.ids import IdFactory, random_id
from journeys.settings import store_for
from projections.database import Database, Dialect
from projections.journeys import JourneysProjection
from projections.runner import ProjectionRunner


def projections() -> list[Any]:
    """Every read model, in the order they are created and rebuilt."""
    return [JourneysProjection()]


def build(
    database_url: str,
    clock: Clock = system_clock,
    new_id: IdFactory = random_id,
    consistency_timeout: float = 10.0,
) -> Services:
    store = store_for(database_url)
    app = JourneysApplication(env=store.env, clock=clock, new_id=new_id)
    datastore = app.factory.datastore  # type: ignore[attr-defined]
    database = Database(datastore, cast(Dialect, store.dialect))
    runner = ProjectionRunner(app, database, projections())
    runner.create_tables()
    return Services(app, database, runner, consistency_timeout)


def close(services: Services) -> None:
    services.app.close()
