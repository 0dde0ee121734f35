"""Histories from the log, for auditors: a journey's, and one enrollment's (`docs/audit.md`)."""

from __future__ import annotations

from typing import Any

import falcon
from spectree import Response

from api import responses, schemas
from api.context import Services
from api.journeys import tenant_of
from api.openapi import errors, spec
from api.representations import page
from domain.errors import NotFound
from domain.ids import is_id_of
from projections import history, journey_queries


def history_page(entries: list[dict[str, Any]], skip: int, take: int) -> dict[str, Any]:
    return page([{"version": e["version"], "type": e["type"], "occurredAt": e["occurred_at"],
                  "actor": e["actor"], "data": e["data"]} for e in entries[skip:skip + take]],
                len(entries), skip, take)


class JourneyHistory:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(query=schemas.PageQuery,
                   resp=Response(HTTP_200=responses.HistoryPage, **errors(404)),
                   tags=["audit"])
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """The journey's history from the log, oldest first: every change, who made it."""
        query: schemas.PageQuery = req.context.query
        if journey_queries.get_journey(self.services.database, journey_id, tenant_of(req)) is None:
            raise NotFound(f"journey {journey_id} not found")
        entries = history.entries(self.services.app, journey_id)
        resp.media = history_page(entries, query.skip, query.take)


class EnrollmentHistory:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(query=schemas.PageQuery,
                   resp=Response(HTTP_200=responses.HistoryPage, **errors(404)),
                   tags=["audit"])
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str,
               key: str) -> None:
        """The enrollment's history from the log, oldest first: every step and what it
        decided, and why (the values a condition read, the variant, each delivery)."""
        query: schemas.PageQuery = req.context.query
        enrollment_id = key  # the route shares its level with DELETE by customer id
        missing = NotFound(f"enrollment {enrollment_id} not found in journey {journey_id}")
        if (not is_id_of("enrollment", enrollment_id) or journey_queries.get_journey(
                self.services.database, journey_id, tenant_of(req)) is None):
            raise missing
        entries = history.entries(self.services.app, enrollment_id)
        if not entries or entries[0]["data"].get("journey_id") != journey_id:
            raise missing
        resp.media = history_page(entries, query.skip, query.take)
