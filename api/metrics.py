"""GET /metrics: Prometheus text, by the Prometheus client library. Requests are counted
in this process; what the engine did, the due-work backlog and the read models' lag are
read from the read models at each scrape, so they are the same in every process and
survive restarts (`docs/operations.md`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import falcon
from eventsourcing.persistence import PersistenceError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from spectree import Response

from api.access import require_all_tenants
from api.context import Services
from api.openapi import errors, spec
from projections import operations_queries
from projections.tracking import failures
from storage.values import iso

log = logging.getLogger(__name__)
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series

REQUESTS = Counter("journeys_http_requests", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("journeys_http_request_duration_seconds", "Time to answer a request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class ReadModelCollector(Collector):
    """The figures the read models hold, read when scraped."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("journeys_database_up", "Whether the database answered the scrape")
        try:
            figures = self._figures()
        except PersistenceError as error:
            log.warning("metrics: the database could not be read: %s", error)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _figures(self) -> list[Any]:
        services = self.services
        database = services.database
        now = services.app.clock()
        totals = operations_queries.enrollment_totals(database)
        started = CounterMetricFamily("journeys_enrollments_started",
                                      "Enrollments started, by every process")
        started.add_metric([], totals.pop("started"))
        ended = CounterMetricFamily("journeys_enrollments_ended", "Enrollments ended, by status",
                                    labels=["status"])
        for status, count in totals.items():
            ended.add_metric([status], count)
        steps = CounterMetricFamily("journeys_steps_entered", "Steps entered, by type",
                                    labels=["type"])
        for step_type, count in operations_queries.steps_entered(database).items():
            steps.add_metric([step_type], count)
        backlog, oldest = operations_queries.due_backlog(database, iso(now))
        due = GaugeMetricFamily("journeys_due_work_backlog", "Enrollments with work due now")
        due.add_metric([], backlog)
        late = GaugeMetricFamily("journeys_due_work_lateness_seconds",
                                 "How late the oldest due work is")
        late.add_metric([], 0 if oldest is None
                        else max(0.0, (now - datetime.fromisoformat(oldest)).total_seconds()))
        lag = GaugeMetricFamily("journeys_read_model_lag_events",
                                "Events of the log a read model has not applied", labels=["read_model"])
        positions, head = services.runner.tracking.positions_and_head()
        for name, position in positions.items():
            lag.add_metric([name], max(0, head - position))
        aside = GaugeMetricFamily("journeys_read_model_events_set_aside",
                                  "Events a read model could not apply and passed over",
                                  labels=["read_model"])
        set_aside = failures(database)
        for name in positions:
            aside.add_metric([name], set_aside.get(name, 0))
        return [started, ended, steps, due, late, lag, aside]


class Metrics:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(ReadModelCollector(services))

    @spec.validate(resp=Response("HTTP_200", **errors()), tags=["operations"])
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Prometheus text format; needs an all-tenants key once keys exist."""
        require_all_tenants(req)
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(REGISTRY) + generate_latest(self.registry)
