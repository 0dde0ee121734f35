"""Step resources: a journey's steps, one step, and reordering."""

from __future__ import annotations

import falcon
from spectree import Response

from api import schemas
from api.context import Services
from api.errors import ApiError
from api.journeys import tenant_of
from api.openapi import errors, spec
from api.representations import step_from_aggregate, steps_from_aggregate
from domain.errors import NotFound, Problem
from projections import journey_queries

SUCCESSORS = {
    "nextStepId": "next_step_id",
    "nextStepYesId": "next_step_yes_id",
    "nextStepNoId": "next_step_no_id",
}


class StepCollection:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.StepList, **errors(404)),
        tags=["steps"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """The journey's steps in order, each with its effective successor."""
        database = self.services.database
        if journey_queries.get_journey(database, journey_id, tenant_of(req)) is None:
            raise NotFound(f"journey {journey_id} not found")
        resp.media = {"data": journey_queries.journey_steps(database, journey_id)}

    @spec.validate(
        json=schemas.AddStep,
        query=schemas.TenantQuery,
        resp=Response(HTTP_201=schemas.Step, **errors(400, 404, 409, 413, 422)),
        tags=["steps"],
    )
    def on_post(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Add a step after `afterStepId`, or at the end."""
        body: schemas.AddStep = req.context.json
        outcome = self.services.app.add_step(
            journey_id,
            step_type=body.type,
            name=body.name,
            config=body.config,
            successors={SUCCESSORS[k]: getattr(body, k) for k in SUCCESSORS},
            after_step_id=body.afterStepId,
            tenant_id=tenant_of(req),
        )
        self.services.settle(outcome.position)
        resp.status = falcon.HTTP_201
        resp.location = f"/journeys/{journey_id}/steps/{outcome.detail.id}"
        resp.media = step_from_aggregate(outcome.journey, outcome.detail.id)

    @spec.validate(
        json=schemas.ReorderSteps,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.StepList, **errors(400, 404, 409, 413, 422)),
        tags=["steps"],
    )
    def on_post_reorder(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Put the steps in a new order; implicit successors follow it."""
        body: schemas.ReorderSteps = req.context.json
        outcome = self.services.app.reorder_steps(journey_id, body.stepIds, tenant_of(req))
        self.services.settle(outcome.position)
        resp.media = {"data": steps_from_aggregate(outcome.journey)}


class StepValidation:
    """GET /journeys/{id}/validation: the graph problems activation would report, on request."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Validation, **errors(404)),
        tags=["steps"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Whether the step graph is valid, listing every problem."""
        database = self.services.database
        journey = journey_queries.get_journey(database, journey_id, tenant_of(req))
        if journey is None:
            raise NotFound(f"journey {journey_id} not found")
        problems = journey_queries.journey_problems(database, journey_id, journey["triggerType"])
        resp.media = {
            "valid": not problems,
            "errors": [{"field": p.field, "message": p.message} for p in problems],
        }


class StepItem:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Step, **errors(404)),
        tags=["steps"],
    )
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, journey_id: str, step_id: str
    ) -> None:
        """One step."""
        database = self.services.database
        journey = journey_queries.get_journey(database, journey_id, tenant_of(req))
        step = journey and journey_queries.get_step(database, journey_id, step_id)
        if not step:
            raise NotFound(f"step {step_id} not found in journey {journey_id}")
        resp.media = step

    @spec.validate(
        json=schemas.UpdateStep,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=schemas.Step, **errors(400, 404, 409, 413, 422)),
        tags=["steps"],
    )
    def on_patch(
        self, req: falcon.Request, resp: falcon.Response, journey_id: str, step_id: str
    ) -> None:
        """Edit a step: anything in DRAFT, only content (name, templateId) once live."""
        body: schemas.UpdateStep = req.context.json
        present = body.model_fields_set
        nulls = sorted(f for f in present & {"name", "config"} if getattr(body, f) is None)
        if not present or nulls:
            raise ApiError(
                falcon.HTTP_422,
                "VALIDATION_FAILED",
                "nothing to change" if not present else "these fields cannot be null",
                [Problem(f, "may not be null") for f in nulls] or [Problem("body", "empty")],
            )
        changes = {SUCCESSORS.get(f, f): getattr(body, f) for f in present}
        outcome = self.services.app.update_step(journey_id, step_id, changes, tenant_of(req))
        self.services.settle(outcome.position)
        resp.media = step_from_aggregate(outcome.journey, step_id)

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response("HTTP_204", **errors(404, 409)),
        tags=["steps"],
    )
    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, journey_id: str, step_id: str
    ) -> None:
        """Delete a step of a DRAFT journey."""
        outcome = self.services.app.remove_step(journey_id, step_id, tenant_of(req))
        self.services.settle(outcome.position)
        resp.status = falcon.HTTP_204
