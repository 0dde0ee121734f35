"""Journey resources: the collection, one journey, and its lifecycle actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon
from spectree import Response

from api import responses, schemas
from api.access import tenant_for
from api.changes import changes_of
from api.context import Services
from api.errors import ApiError
from api.idempotency import Answer
from api.openapi import errors, spec
from api.representations import (
    NO_ENROLLMENTS,
    enrollment_item,
    instant,
    journey_document,
    steps_document,
)
from domain.application import Outcome
from domain.caller import Caller
from domain.errors import NotFound, Problem
from domain.ids import is_id_of
from projections import as_of, enrollment_queries, journey_queries

INCLUDES = frozenset({"steps", "enrollments"})
NOT_NULL = frozenset({"name", "triggerType", "triggerConfig", "allowReentry", "timezone"})


def tenant_of(req: falcon.Request) -> str | None:
    """The tenant a request under /journeys/{id} is confined to: the key's, or the
    `tenantId` it names (a journey of another tenant is then 404), or none."""
    return tenant_for(req, req.get_param("tenantId"), required=False)


def created(outcome: Outcome) -> Answer:
    journey = outcome.journey
    return Answer(201, journey_document(journey, NO_ENROLLMENTS),
                  {"Location": f"/journeys/{journey.id}"})


class JourneyCollection:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.ListJourneysQuery,
        resp=Response(HTTP_200=responses.JourneyList, **errors(422)),
        tags=["journeys"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List a tenant's journeys."""
        query: schemas.ListJourneysQuery = req.context.query
        tenant = tenant_for(req, query.tenantId, required=True)
        assert tenant is not None
        rows = journey_queries.list_journeys(
            self.services.database, tenant, query.status, query.triggerType)
        resp.media = {"data": [journey_document(row) for row in rows]}

    @spec.validate(
        json=schemas.CreateJourney,
        resp=Response(HTTP_201=responses.Journey, **errors(409, 413, 415)),
        tags=["journeys"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create a journey in DRAFT."""
        body: schemas.CreateJourney = req.context.json
        tenant = tenant_for(req, body.tenantId, required=True)
        assert tenant is not None
        outcome = self.services.app.create_journey(
            tenant_id=tenant,
            name=body.name,
            trigger_type=body.triggerType,
            description=body.description,
            trigger_config=body.triggerConfig.model_dump() if body.triggerConfig else None,
            allow_reentry=body.allowReentry,
            timezone=body.timezone,
            created_by=body.createdBy,
            caller=self.services.idempotency.caller(req, created),
        )
        self.services.settle(outcome.position)
        created(outcome).send(resp)


class JourneyItem:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.GetJourneyQuery,
        resp=Response(HTTP_200=responses.JourneyDetail, **errors(404, 422)),
        tags=["journeys"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """One journey, optionally with its steps and enrollments."""
        query: schemas.GetJourneyQuery = req.context.query
        includes = {part.strip() for part in (query.include or "").split(",") if part.strip()}
        if includes - INCLUDES:
            raise ApiError(
                falcon.HTTP_422,
                "VALIDATION_FAILED",
                "unknown include",
                [Problem("include", f"allowed: {', '.join(sorted(INCLUDES))}")],
            )
        if query.asOf is not None:
            resp.media = self._as_of(journey_id, tenant_of(req), query.asOf, includes)
            return
        database = self.services.database
        row = journey_queries.get_journey(database, journey_id, tenant_of(req))
        if row is None:
            raise NotFound(f"journey {journey_id} not found")
        document: dict[str, Any] = journey_document(row)
        if "steps" in includes:
            document["steps"] = steps_document(journey_queries.journey_steps(database, journey_id))
        if "enrollments" in includes:
            rows, _ = enrollment_queries.list_enrollments(database, journey_id, None, 0, 25)
            document["enrollments"] = [enrollment_item(row) for row in rows]
        resp.media = document

    def _as_of(self, journey_id: str, tenant: str | None, at: datetime,
               includes: set[str]) -> dict[str, Any]:
        """The journey as it stood at `at`, folded from the log (`docs/audit.md`)."""
        app, database = self.services.app, self.services.database
        journey = as_of.journey(app, journey_id, at) if is_id_of("journey", journey_id) else None
        if journey is None or (tenant is not None and journey.tenant_id != tenant):
            raise NotFound(f"journey {journey_id} did not exist at {instant(at)}")
        document = journey_document(journey, as_of.counters(database, journey_id, at))
        if "steps" in includes:
            document["steps"] = steps_document(journey.steps)
        if "enrollments" in includes:
            folded = (as_of.enrollment(app, enrollment_id, at, journey)
                      for enrollment_id in as_of.enrollment_ids(database, journey_id, at, 25))
            document["enrollments"] = [enrollment_item(as_of.listed(database, row))
                                       for row in folded if row]
        return document

    @spec.validate(
        json=schemas.UpdateJourney,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Journey, **errors(404, 409, 413, 415)),
        tags=["journeys"],
    )
    def on_patch(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Edit a journey: every field in DRAFT, name and description once live."""
        changes = changes_of(req.context.json, NOT_NULL)
        counters = journey_queries.journey_counters(self.services.database, journey_id)

        def updated(outcome: Outcome) -> Answer:
            return Answer(200, journey_document(outcome.journey, counters))

        outcome = self.services.app.update_journey(
            journey_id, changes, tenant_of(req), self.services.idempotency.caller(req, updated))
        self.services.settle(outcome.position)
        updated(outcome).send(resp)

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response("HTTP_204", **errors(404, 409)),
        tags=["journeys"],
    )
    def on_delete(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Delete a DRAFT journey; live journeys must be archived instead."""
        outcome = self.services.app.delete_journey(
            journey_id, tenant_of(req), self.services.idempotency.caller(req, deleted))
        self.services.settle(outcome.position)
        deleted(outcome).send(resp)


class JourneyLifecycle:
    """POST /journeys/{id}/activate|pause|resume|archive."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Activated, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_activate(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Activate a DRAFT journey whose step graph is valid (409 lists every problem)."""
        def activated(outcome: Outcome) -> Answer:
            journey = outcome.journey
            return Answer(200, {"id": journey.id, "status": journey.status,
                                "activatedAt": instant(journey.activated_at)})

        self._run(req, resp, activated, lambda caller: self.services.app.activate(
            journey_id, tenant_of(req), caller))

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Paused, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_pause(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Pause: no new enrollments, due steps are held."""
        counters = journey_queries.journey_counters(self.services.database, journey_id)

        def paused(outcome: Outcome) -> Answer:
            journey = outcome.journey
            return Answer(200, {"id": journey.id, "status": journey.status,
                                "pausedAt": instant(journey.paused_at),
                                "activeEnrollments": counters["active_enrollments"]})

        self._run(req, resp, paused, lambda caller: self.services.app.pause(
            journey_id, tenant_of(req), caller))

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Resumed, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_resume(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Resume a PAUSED journey; held steps run at once."""
        def resumed(outcome: Outcome) -> Answer:
            journey = outcome.journey
            return Answer(200, {"id": journey.id, "status": journey.status,
                                "resumedAt": instant(journey.resumed_at)})

        self._run(req, resp, resumed, lambda caller: self.services.app.resume(
            journey_id, tenant_of(req), caller))

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Archived, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_archive(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Archive: terminal; active enrollments exit."""
        journey = None

        def archived(exited: int) -> Answer:
            assert journey is not None
            return Answer(200, {"id": journey.id, "status": journey.status,
                                "archivedAt": instant(journey.archived_at),
                                "exitedEnrollments": exited})

        caller = self.services.idempotency.caller(req, archived)
        outcome = self.services.app.archive(journey_id, tenant_of(req), caller.without_receipt())
        journey = outcome.journey
        self.services.settle(outcome.position)
        exited = self.services.exit_archived(journey_id, caller)
        archived(exited).send(resp)

    def _run(self, req: falcon.Request, resp: falcon.Response,
             render: Callable[[Outcome], Answer],
             command: Callable[[Caller], Outcome]) -> None:
        outcome = command(self.services.idempotency.caller(req, render))
        self.services.settle(outcome.position)
        render(outcome).send(resp)


def deleted(outcome: Outcome) -> Answer:
    return Answer(204)
