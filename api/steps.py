"""Step resources: a journey's steps, one step, and reordering."""

from __future__ import annotations

import falcon
from spectree import Response

from api import responses, schemas
from api.changes import changes_of
from api.context import Services
from api.idempotency import Answer
from api.journeys import tenant_of
from api.openapi import errors, spec
from api.representations import step_document, steps_document
from domain.application import Outcome
from domain.errors import NotFound
from domain.journey import Journey
from domain.steps import Step
from projections import journey_queries

NOT_NULL = frozenset({"name", "config"})


def _step_document(journey: Journey, step_id: str) -> dict[str, object]:
    return step_document(journey.steps, [step.id for step in journey.steps].index(step_id))


def added(outcome: Outcome) -> Answer:
    journey, step = outcome.journey, outcome.detail
    return Answer(201, _step_document(journey, step.id),
                  {"Location": f"/journeys/{journey.id}/steps/{step.id}"})


def reordered(outcome: Outcome) -> Answer:
    return Answer(200, {"data": steps_document(outcome.journey.steps)})


def removed(outcome: Outcome) -> Answer:
    return Answer(204)


class StepCollection:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.StepList, **errors(404)),
        tags=["steps"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """The journey's steps in order, each with its effective successor."""
        database = self.services.database
        if journey_queries.get_journey(database, journey_id, tenant_of(req)) is None:
            raise NotFound(f"journey {journey_id} not found")
        resp.media = {"data": steps_document(journey_queries.journey_steps(database, journey_id))}

    @spec.validate(
        json=schemas.AddStep,
        query=schemas.TenantQuery,
        resp=Response(HTTP_201=responses.Step, **errors(404, 409, 413, 415)),
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
            successors={"next_step_id": body.nextStepId, "next_step_yes_id": body.nextStepYesId,
                        "next_step_no_id": body.nextStepNoId},
            after_step_id=body.afterStepId,
            tenant_id=tenant_of(req),
            caller=self.services.idempotency.caller(req, added),
        )
        self.services.settle(outcome.position)
        added(outcome).send(resp)

    @spec.validate(
        json=schemas.ReorderSteps,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.StepList, **errors(404, 409, 413, 415)),
        tags=["steps"],
    )
    def on_post_reorder(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Put the steps in a new order; implicit successors follow it."""
        body: schemas.ReorderSteps = req.context.json
        outcome = self.services.app.reorder_steps(
            journey_id, body.stepIds, tenant_of(req), self.services.idempotency.caller(req, reordered))
        self.services.settle(outcome.position)
        reordered(outcome).send(resp)


class StepValidation:
    """GET /journeys/{id}/validation: the graph problems activation would report, on request."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Validation, **errors(404)),
        tags=["steps"],
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response, journey_id: str) -> None:
        """Whether the step graph is valid, listing every problem (`errors`, which block
        activation) and what is allowed but likely not meant (`warnings`, which do not)."""
        database = self.services.database
        journey = journey_queries.get_journey(database, journey_id, tenant_of(req))
        if journey is None:
            raise NotFound(f"journey {journey_id} not found")
        problems = journey_queries.journey_problems(database, journey_id, journey["trigger_type"])
        warnings = journey_queries.journey_warnings(database, journey_id)
        resp.media = {
            "valid": not problems,
            "errors": [{"field": p.field, "message": p.message} for p in problems],
            "warnings": [{"field": p.field, "message": p.message} for p in warnings],
        }


class StepItem:
    def __init__(self, services: Services) -> None:
        self.services = services

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Step, **errors(404)),
        tags=["steps"],
    )
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, journey_id: str, step_id: str
    ) -> None:
        """One step."""
        database = self.services.database
        journey = journey_queries.get_journey(database, journey_id, tenant_of(req))
        steps: list[Step] = journey_queries.journey_steps(database, journey_id) if journey else []
        numbers = [step.id for step in steps]
        if step_id not in numbers:
            raise NotFound(f"step {step_id} not found in journey {journey_id}")
        resp.media = step_document(steps, numbers.index(step_id))

    @spec.validate(
        json=schemas.UpdateStep,
        query=schemas.TenantQuery,
        resp=Response(HTTP_200=responses.Step, **errors(404, 409, 413, 415)),
        tags=["steps"],
    )
    def on_patch(
        self, req: falcon.Request, resp: falcon.Response, journey_id: str, step_id: str
    ) -> None:
        """Edit a step: anything in DRAFT, only content (name, templateId) once live."""
        changes = changes_of(req.context.json, NOT_NULL)

        def updated(outcome: Outcome) -> Answer:
            return Answer(200, _step_document(outcome.journey, step_id))

        outcome = self.services.app.update_step(
            journey_id, step_id, changes, tenant_of(req), self.services.idempotency.caller(req, updated))
        self.services.settle(outcome.position)
        updated(outcome).send(resp)

    @spec.validate(
        query=schemas.TenantQuery,
        resp=Response("HTTP_204", **errors(404, 409)),
        tags=["steps"],
    )
    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, journey_id: str, step_id: str
    ) -> None:
        """Delete a step of a DRAFT journey."""
        outcome = self.services.app.remove_step(
            journey_id, step_id, tenant_of(req), self.services.idempotency.caller(req, removed))
        self.services.settle(outcome.position)
        removed(outcome).send(resp)
