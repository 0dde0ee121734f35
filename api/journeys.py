"""Journey resources: the collection, one journey, and its lifecycle actions."""

from __future__ import annotations

from typing import Any

import falcon
from spectree import Response

from api import schemas
from api.context import Services
from api.errors import ApiError
from api.openapi import errors, spec
from api.representations import journey_from_aggregate
from domain.errors import NotFound, Problem
from projections import enrollment_queries, journey_queries

INCLUDES = frozenset({"steps", "enrollments"})
UPDATE_FIELDS = {
    "name": "name",
    "description": "description",
    "triggerType": "trigger_type",
    "triggerConfig": "trigger_config",
    "allowReentry": "allow_reentry",
    "timezone": "timezone",
}
NOT_NULL = frozenset({"name", "triggerType", "triggerConfig", "allowReentry", "timezone"})


def tenant_of(req: falcon.Request) -> str | None:
    tenant: str | None = req.get_param("tenantId")
    return tenant


class JourneyCollection:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.ListJourneysQuery,
        resp=Response(HTTP_200=schemas.JourneyList, **errors(422)),
        tags=["journeys"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List a tenant's journeys."""
        query: schemas.ListJourneysQuery = req.context.query
        resp.media = {
            "data": journey_queries.list_journeys(
                self.services.database, query.tenantId, query.status, query.triggerType
            )
        }

    @spec.validate(
        json=schemas.CreateJourney,
        resp=Response(HTTP_201=schemas.Journey, **errors(400, 413, 422)),
        tags=["journeys"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create a journey in DRAFT."""
        body: schemas.CreateJourney = req.context.json
        outcome = self.services.app.create_journey(
            tenant_id=body.tenantId,
            name=body.name,
            trigger_type=body.triggerType,
            description=body.description,
            trigger_config=body.triggerConfig.model_dump() if body.triggerConfig else None,
            allow_reentry=body.allowReentry,
            timezone=body.timezone,
            created_by=body.createdBy,
        )
        self.services.settle(outcome.position)
        resp.status = falcon.HTTP_201
        resp.location = f"/journeys/{outcome.journey.id}"
        resp.media = journey_from_aggregate(outcome.journey)


class JourneyItem:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.GetJourneyQuery,
        resp=Response(HTTP_200=schemas.JourneyDetail, **errors(404, 422)),
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
        database = self.services.database
        document: dict[str, Any] | None = journey_queries.get_journey(
            database, journey_id, query.tenantId
        )
        if document is None:
            raise NotFound(f"journey {journey_id} not found")
        if "steps" in includes:
            document["steps"] = journey_queries.journey_steps(database, journey_id)
        if "enrollments" in includes:
            page = enrollment_queries.list_enrollments(database, journey_id, None, 0, 25)
            document["enrollments"] = page["data"]
        resp.media = document

    @spec.validate(
        json=schemas.UpdateJourney,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Journey, **errors(400, 404, 409, 413, 422)),
        tags=["journeys"],
    )
    def on_patch(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Edit a journey: every field in DRAFT, name and description once live."""
        body: schemas.UpdateJourney = req.context.json
        present = body.model_fields_set
        nulls = sorted(f for f in present & NOT_NULL if getattr(body, f) is None)
        if not present or nulls:
            raise ApiError(
                falcon.HTTP_422,
                "VALIDATION_FAILED",
                "nothing to change" if not present else "these fields cannot be null",
                [Problem(f, "may not be null") for f in nulls] or [Problem("body", "empty")],
            )
        changes = {UPDATE_FIELDS[f]: getattr(body, f) for f in present}
        if "trigger_config" in changes:
            changes["trigger_config"] = body.triggerConfig.model_dump()  # type: ignore[union-attr]
        outcome = self.services.app.update_journey(journey_id, changes, tenant_of(req))
        self.services.settle(outcome.position)
        resp.media = journey_from_aggregate(outcome.journey, self._counters(journey_id))

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response("HTTP_204", **errors(404, 409)),
        tags=["journeys"],
    )
    def on_delete(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Delete a DRAFT journey; live journeys must be archived instead."""
        outcome = self.services.app.delete_journey(journey_id, tenant_of(req))
        self.services.settle(outcome.position)
        resp.status = falcon.HTTP_204

    def _counters(self, journey_id: str) -> dict[str, Any] | None:
        return journey_queries.journey_counters(self.services.database, journey_id)


class JourneyLifecycle:
    """POST /journeys/{id}/activate|pause|resume|archive."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Activated, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_activate(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Activate a DRAFT journey whose step graph is valid (409 lists every problem)."""
        journey = self._settled(self.services.app.activate(journey_id, tenant_of(req)))
        resp.media = {"id": journey.id, "status": journey.status,
                      "activatedAt": journey_from_aggregate(journey)["activatedAt"]}

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Paused, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_pause(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Pause: no new enrollments, due steps are held."""
        journey = self._settled(self.services.app.pause(journey_id, tenant_of(req)))
        document = self._document(journey)
        resp.media = {"id": journey.id, "status": journey.status,
                      "pausedAt": document["pausedAt"],
                      "activeEnrollments": document["activeEnrollments"]}

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Resumed, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_resume(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Resume a PAUSED journey; held steps run at once."""
        journey = self._settled(self.services.app.resume(journey_id, tenant_of(req)))
        resp.media = {"id": journey.id, "status": journey.status,
                      "resumedAt": journey_from_aggregate(journey)["resumedAt"]}

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Archived, **errors(404, 409)),
        tags=["lifecycle"],
    )
    def on_post_archive(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Archive: terminal; active enrollments exit."""
        outcome = self.services.app.archive(journey_id, tenant_of(req))
        journey = self._settled(outcome)
        resp.media = {"id": journey.id, "status": journey.status,
                      "archivedAt": journey_from_aggregate(journey)["archivedAt"],
                      "exitedEnrollments": int(outcome.detail or 0)}

    def _settled(self, outcome: Any) -> Any:
        self.services.settle(outcome.position)
        return outcome.journey

    def _document(self, journey: Any) -> dict[str, Any]:
        counters = journey_queries.journey_counters(self.services.database, journey.id)
        return journey_from_aggregate(journey, counters)
